/**
 * Regression: a freshly booted host has no /run/bot-bottle (/run is a tmpfs), and the demo must
 * pass there. Removing the real directory would break bottles other test files launch in
 * parallel, so the launch runs in a private mount namespace with an empty tmpfs on /run: the
 * runtime directory is genuinely absent there, under a strict umask, and nothing leaks to the
 * host's mount table. `.ci/run` also removes the host's directory before the whole run.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { CLI_MAIN, REPO_ROOT } from '../helpers/cli.js';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const TSX = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

// Inside the new mount namespace: a fresh /run, proof the runtime dir is absent, umask 077, then
// the demo; afterwards the modes the launch created are printed for the assertions below.
const SCRIPT = [
  'set -e',
  'mount -t tmpfs -o mode=0755 bb-fresh-run /run',
  'test ! -e /run/bot-bottle',
  'umask 077',
  'rc=0; "$@" || rc=$?',
  'stat -c "MODE %n %a %U" /run/bot-bottle /run/bot-bottle/netns /run/bot-bottle/stage >&2',
  'exit $rc',
].join('\n');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', SCRIPT, 'fresh-boot', ...args], {
      env: { ...process.env, NO_COLOR: '1', BOT_BOTTLE_DEBUG: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

const hasUnshare = (): string | false => {
  try {
    execFileSync('unshare', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    process.stderr.write('SKIP (needs unshare from util-linux)\n');
    return 'needs unshare';
  }
};

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'git-http-backend') || hasUnshare())('fresh boot (no /run/bot-bottle)', () => {
  it('the demo passes 4/4 and creates the runtime directory with the modes the sandbox needs', async () => {
    const r = await run([process.execPath, '--import', TSX, CLI_MAIN, 'demo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { steps: Array<{ passed: boolean }> };
    expect(doc.steps.map((s) => s.passed)).toEqual([true, true, true, true]);
    expect(r.stderr).toContain('MODE /run/bot-bottle 755 root');
    expect(r.stderr).toContain('MODE /run/bot-bottle/netns 700 root');
    expect(r.stderr).toContain('MODE /run/bot-bottle/stage 755 root');
  }, 180_000);
});
