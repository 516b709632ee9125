/**
 * `log` over a real bottle's egress AND git-gate audit: `bot-bottle demo --keep` runs a real netns
 * bottle (credential injected, blocked host, blocked exfiltration of an AWS key, rejected secret
 * push) and keeps its home; `log --denied --json` must show each refusal with its source, rule and
 * reason, and the demo's AWS key must appear nowhere.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { runCli } from '../helpers/cli.js';

const AWS_KEY = /AKIA[A-Z2-7]{16}/;

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'git-http-backend'))('log over the demo bottle', () => {
  let home: string | null = null;
  afterAll(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('egress and git-gate refusals, each with source, rule and reason; no secret', async () => {
    const demo = await runCli(['demo', '--keep', '--json'], { timeoutMs: 150_000 });
    expect(demo.code, demo.stderr).toBe(0);
    home = (JSON.parse(demo.stdout) as { home: string }).home;
    const env = { BOT_BOTTLE_HOME: home };

    const r = await runCli(['log', '--denied', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.every((x) => x.schema === 'bot-bottle/log@1' && /^demo-/.test(String(x.slug)))).toBe(true);
    expect(rows).toContainEqual(expect.objectContaining({ source: 'egress', host: 'blocked.bot-bottle.test', reason: 'no_route', decision: 'deny' }));
    expect(rows).toContainEqual(expect.objectContaining({ source: 'egress', method: 'POST', reason: 'dlp_block', rule: expect.stringContaining('aws_access_key_id') }));
    expect(rows).toContainEqual(expect.objectContaining({ source: 'git-gate', method: 'push', path: 'refs/heads/main', rule: 'aws_access_key_id', reason: 'secret', decision: 'deny' }));
    expect(rows.some((x) => x.decision === 'allow')).toBe(false);

    const all = await runCli(['log'], { env });
    expect(all.stdout).toMatch(/egress\s+ALLOW/); // the injected request, shown without --denied
    const suggest = await runCli(['log', '--suggest'], { env });
    expect(suggest.stdout).toContain('- host: blocked.bot-bottle.test');
    expect(suggest.stdout).toContain('Not proposed (a route would not fix these): 1 × dlp_block');
    for (const out of [r.stdout, all.stdout, suggest.stdout, r.stderr, all.stderr]) expect(out).not.toMatch(AWS_KEY);
  }, 200_000);
});
