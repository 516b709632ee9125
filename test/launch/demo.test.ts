/** `bot-bottle demo` on netns (C37's netns twin): four steps PASS, nothing left. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { runCli } from '../helpers/cli.js';
import { readRecords } from '../../src/backends/netns/records.js';

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'git-http-backend'))('demo (netns)', () => {
  it('four steps pass, JSON document, exit 0, no bottle left behind', async () => {
    const r = await runCli(['demo', '--json'], { timeoutMs: 150_000 });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { schema: string; backend: string; steps: Array<{ id: number; title: string; passed: boolean; detail: string }> };
    expect(doc.schema).toBe('bot-bottle/demo@1');
    expect(doc.backend).toBe('netns');
    expect(doc.steps.map((s) => [s.id, s.title, s.passed])).toEqual([
      [1, 'allowed + injected', true],
      [2, 'blocked host', true],
      [3, 'blocked exfiltration', true],
      [4, 'rejected secret push', true],
    ]);
    expect(doc.steps[1]!.detail).toContain('egress:');
    expect(readRecords().filter((x) => x.slug.startsWith('demo-') && x.agent === 'demo')).toEqual([]);
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toMatch(/bot-bottle-demo-/);
  }, 180_000);

  it('--backend docker without an engine exits 3 with a fix', async () => {
    // An engine socket that never answers: CI runs an engine, this test means "none here".
    const r = await runCli(['demo', '--backend', 'docker'], { env: { DOCKER_HOST: 'unix:///nonexistent/bot-bottle-test/docker.sock' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^bot-bottle: error: backend docker is unavailable/);
  }, 60_000);
});
