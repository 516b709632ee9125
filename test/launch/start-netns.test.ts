/**
 * `bot-bottle start --headless --backend netns` end to end: manifests → plan → state → the real
 * sidecar bundle → bwrap agent → teardown (C14, C21, C22 on a real backend). The agent CLI is a
 * user plugin provider whose headless command is `/bin/sh -c <prompt>`.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { runCli } from '../helpers/cli.js';
import { leftovers } from '../backends/helpers/leftovers.js';

const PROVIDER = `export default {
  apiVersion: 1,
  name: 'shtool',
  async plan(ctx) {
    return {
      template: 'shtool',
      image: { tag: 'none', dockerfile: null, context: null, buildArgs: {} },
      interactiveArgv: ['/bin/sh'], resumeArgv: ['/bin/sh'],
      headlessArgv: ['/bin/sh', '-c', '{{prompt}}'], headlessResumeArgv: ['/bin/sh', '-c', '{{prompt}}'],
      guestEnv: {}, hiddenEnvNames: [], files: [], skillsDir: ctx.guestHome + '/.shtool/skills',
      transcriptPaths: [], mcpRegisterArgv: null, egressRoutes: [], provisionedEnv: {}, notes: [],
    };
  },
};
`;

function makeHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'bb-start-'));
  for (const d of ['bottles', 'agents', 'contrib/shtool']) mkdirSync(join(home, d), { recursive: true });
  writeFileSync(join(home, 'contrib', 'shtool', 'provider.mjs'), PROVIDER);
  for (const d of ['contrib', 'contrib/shtool']) chmodSync(join(home, d), 0o755);
  chmodSync(join(home, 'contrib', 'shtool', 'provider.mjs'), 0o644);
  writeFileSync(join(home, 'bottles', 'sh.md'), '---\nagent_provider:\n  template: shtool\n---\nshell bottle\n');
  writeFileSync(join(home, 'agents', 'runner.md'), '---\ndescription: runs a shell command\nbottle: sh\n---\nYou run shell.\n');
  chmodSync(home, 0o700);
  return home;
}

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip'))('start --headless on netns (full pipeline)', () => {
  const home = makeHome();
  const env = { BOT_BOTTLE_HOME: home };
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('C14 + C22: agent output streamed, exit code passed through, state preserved with a resume hint', async () => {
    const r = await runCli(['start', 'runner', '--headless', '--backend', 'netns', '--prompt', 'echo hello-from-bottle; id -u; echo persisted > ~/marker; exit 5'], { env, timeoutMs: 150_000 });
    expect(r.code, r.stderr).toBe(5);
    const slug = /^bot-bottle: started (runner-[0-9a-z]{5})$/m.exec(r.stderr.split('\n')[0] ?? '')?.[1];
    expect(slug, r.stderr).toBeDefined();
    expect(r.stdout).toBe('hello-from-bottle\n1000\n');
    expect(r.stderr).toContain(`bottle ${slug} exited with 5; state kept — resume with: bot-bottle resume ${slug}`);
    const state = join(home, 'state', slug!);
    expect(JSON.parse(readFileSync(join(state, '.preserve'), 'utf8'))).toMatchObject({ reason: 'exit-nonzero', exitCode: 5 });
    expect(existsSync(join(state, 'egress', 'ca-key.pem'))).toBe(false);
    expect(existsSync(join(state, 'session.json'))).toBe(false);
    expect(readFileSync(join(state, 'logs', 'sidecar.log'), 'utf8')).toContain('[egress] ');
    expect(leftovers(slug!)).toEqual([]);

    // C24: resume — same slug, backend and bottles; the netns home survived; exit 0 clears state.
    const resumed = await runCli(['resume', slug!, '--headless', '--prompt', 'cat ~/marker'], { env, timeoutMs: 150_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr.split('\n')[0]).toBe(`bot-bottle: started ${slug}`);
    expect(resumed.stdout).toBe('persisted\n');
    expect(resumed.stderr).toContain(`bottle ${slug} finished; state removed`);
    expect(existsSync(state)).toBe(false);
    expect(leftovers(slug!)).toEqual([]);
  }, 360_000);

  it('C23: resume of an unknown slug names the looked-up path; --backend is not accepted', async () => {
    const r = await runCli(['resume', 'nope-12345'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no saved state for "nope-12345" (looked in ${join(home, 'state', 'nope-12345')})`);
    expect((await runCli(['resume', 'x', '--backend', 'netns'], { env })).code).toBe(2);
  }, 60_000);

  it('C21: agent exit 0 removes the state dir', async () => {
    const before = new Set(readdirSync(join(home, 'state')));
    const r = await runCli(['start', 'runner', '--headless', '--backend', 'netns', '--prompt', 'true'], { env, timeoutMs: 150_000 });
    expect(r.code, r.stderr).toBe(0);
    const slug = /started (\S+)/.exec(r.stderr)?.[1];
    expect(r.stderr).toContain(`bottle ${slug} finished; state removed`);
    expect(readdirSync(join(home, 'state')).filter((s) => !before.has(s))).toEqual([]);
    expect(leftovers(slug!)).toEqual([]);
  }, 180_000);
});
