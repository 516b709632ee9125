/**
 * The supervisor → daemon lifeline (src/sidecar/lifeline.ts): a daemon whose supervisor is
 * SIGKILLed exits on its own instead of serving on as an orphan; a daemon started without the pipe
 * (tests, `sidecar egress` by hand) is unaffected.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LIFELINE_EXIT } from '../../src/sidecar/lifeline.js';
import { pidAlive as alive } from '../../src/util/pid-alive.js';

const LIFELINE = fileURLToPath(new URL('../../src/sidecar/lifeline.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));

// A "daemon" that watches the lifeline, reports whether it found one, and otherwise runs forever.
const DAEMON = `import(${JSON.stringify(LIFELINE)}).then((m) => { const on = m.watchLifeline(); process.stdout.write((on ? 'watching' : 'none') + '\\n'); setInterval(() => {}, 1000); });`;


describe('sidecar lifeline', () => {
  it('a daemon exits with 75 when its supervisor is SIGKILLed; the pipe is the only signal it gets', async () => {
    // The "supervisor" spawns the daemon with fd 3 = a pipe, prints the daemon pid, then idles.
    const sup = spawn(process.execPath, ['-e', `
      const { spawn } = require('node:child_process');
      const d = spawn(process.execPath, ['--import', ${JSON.stringify(TSX)}, '--input-type=module', '-e', ${JSON.stringify(DAEMON)}], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
      d.stdout.on('data', (c) => process.stdout.write(String(d.pid) + ' ' + c));
      setInterval(() => {}, 1000);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => {
      let buf = '';
      sup.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        if (buf.includes('\n')) resolve(buf.trim());
      });
    });
    const [pidText, state] = line.split(' ');
    const daemon = Number(pidText);
    expect(state).toBe('watching');
    expect(alive(daemon)).toBe(true);
    sup.kill('SIGKILL');
    let waited = 0;
    while (alive(daemon) && waited < 5000) {
      await new Promise((r) => setTimeout(r, 50));
      waited += 50;
    }
    expect(alive(daemon), 'the orphaned daemon must exit').toBe(false);
  }, 20_000);

  it('without the pipe there is no lifeline and the daemon keeps running', async () => {
    const d = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', DAEMON], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out = await new Promise<string>((resolve) => d.stdout.once('data', (c: Buffer) => resolve(c.toString().trim())));
    expect(out).toBe('none');
    await new Promise((r) => setTimeout(r, 300));
    expect(d.exitCode).toBe(null);
    d.kill('SIGKILL');
    expect(LIFELINE_EXIT).toBe(75);
  }, 20_000);
});
