/** The audit reader: incremental, partial lines held back, rotation by truncation, bounded reads; --follow's SIGINT. */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditTail, auditFilesOf, readAll } from '../../src/log/read.js';
import { CLI_MAIN, REPO_ROOT } from '../helpers/cli.js';
import { pathToFileURL } from 'node:url';

const rec = (n: number, decision = 'deny') =>
  `${JSON.stringify({ ts: `2026-12-05T12:00:${String(n).padStart(2, '0')}.000Z`, decision, host: `h${n}.example.com`, port: 443, method: 'GET', path: `/p${n}`, route: null, match: null, reason: decision === 'deny' ? 'no_route' : null, status: 403 })}\n`;

describe('AuditTail / readAll', () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-logread-'));
  const logs = join(home, 'state', 's-1', 'logs');
  mkdirSync(logs, { recursive: true });
  const egress = join(logs, 'egress-audit.jsonl');
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('returns only complete lines; the rest comes with the next read; a truncated file is read from the start', () => {
    writeFileSync(egress, rec(1) + rec(2).slice(0, 20));
    const tail = new AuditTail();
    tail.add(auditFilesOf(home, 's-1'));
    expect(tail.read().entries.map((e) => e.host)).toEqual(['h1.example.com']);
    appendFileSync(egress, rec(2).slice(20) + rec(3));
    expect(tail.read().entries.map((e) => e.host)).toEqual(['h2.example.com', 'h3.example.com']);
    expect(tail.read().entries).toEqual([]);
    truncateSync(egress, 0); // rotation by copy + truncate (egress/log.ts)
    appendFileSync(egress, rec(4));
    expect(tail.read().entries.map((e) => e.host)).toEqual(['h4.example.com']);
  });

  it('the rotated generation and the gate file are merged in time order', () => {
    writeFileSync(`${egress}.1`, rec(1) + rec(5));
    writeFileSync(egress, rec(3));
    writeFileSync(join(logs, 'git-gate-audit.jsonl'), `${JSON.stringify({ ts: '2026-12-05T12:00:04.000Z', event: 'gitgate_push', repo: 'app', outcome: 'policy', refs: [{ ref: 'refs/heads/main' }], findings: [] })}\n`);
    expect(readAll(auditFilesOf(home, 's-1')).map((e) => `${e.source}:${e.host}`)).toEqual(['egress:h1.example.com', 'egress:h3.example.com', 'git-gate:app', 'egress:h5.example.com']);
  });

  it('log --follow on a live bottle stops on SIGINT with 130', async () => {
    writeFileSync(join(home, 'state', 's-1', 'session.json'), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
    const loader = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const child = spawn(process.execPath, ['--import', loader, CLI_MAIN, 'log', 's-1', '--follow', '--denied'], { env: { ...process.env, BOT_BOTTLE_HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    const end = Date.now() + 30_000;
    while (!out.includes('h5.example.com') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('h5.example.com');
    child.kill('SIGINT');
    expect(await code).toBe(130);
  }, 60_000);
});
