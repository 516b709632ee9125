/**
 * Audit file (docs/security-model.md §2.3): JSON lines, 0600, batched writes flushed on close,
 * rotation to `.1`.
 */
import { describe, it, expect } from 'vitest';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createAuditFile, headersForLog, type AuditRecord } from '../../src/egress/log.js';
import { tempDir } from './harness.js';
import { skipReason } from '../helpers/capabilities.js';

const rec = (id: number): AuditRecord => ({
  ts: 't', bottle: 'b', id, conn: 1, mode: 'intercept', method: 'GET', host: 'a.test', port: 443, path: '/x', route: 'a.test', match: null,
  decision: 'allow', reason: null, status: 200, injected: null, findings: [], proposal: null, bytes_up: 0, bytes_down: 0, ms_total: 1,
});

describe('audit file', () => {
  it('writes one JSON line per record, mode 0600, flushed on close; rotates to <path>.1', async () => {
    const t = await tempDir();
    try {
      const path = join(t.dir, 'logs', 'egress-audit.jsonl');
      const a = createAuditFile(path, 2000);
      for (let i = 0; i < 5; i++) a.write(rec(i));
      await a.close();
      const lines = (await readFile(path, 'utf8')).trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as AuditRecord).id)).toEqual([0, 1, 2, 3, 4]);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const b = createAuditFile(path, 2000);
      for (let i = 5; i < 40; i++) {
        b.write(rec(i));
        await new Promise((r) => setTimeout(r, 25));
      }
      await b.close();
      const rotated = await readFile(`${path}.1`, 'utf8');
      const current = await readFile(path, 'utf8');
      expect(rotated.length).toBeGreaterThan(0);
      expect(current.length).toBeLessThanOrEqual(2000 + 400);
      const ids = [...rotated.trim().split('\n'), ...current.trim().split('\n')].map((l) => (JSON.parse(l) as AuditRecord).id);
      expect(ids.at(-1)).toBe(39);
    } finally {
      await t.cleanup();
    }
  });

  it('log headers: injected as [injected:SLOT], credentials as [redacted len=N]', () => {
    const h = headersForLog(['Authorization', 'Bearer real', 'Cookie', 'a=b', 'X-Api-Key', 'k', 'Accept', '*/*'], { name: 'x-api-key', slot: 'EGRESS_TOKEN_3' });
    expect(h).toEqual({ authorization: '[redacted len=11]', cookie: '[redacted len=3]', 'x-api-key': '[injected:EGRESS_TOKEN_3]', accept: '*/*' });
  });
});

describe.skipIf(skipReason('root'))('audit rotation without a writable directory', () => {
  it('an unprivileged writer that owns only the file and its .1 rotates by copy + truncate, so the file stays bounded', async () => {
    const { mkdtempSync, mkdirSync, chownSync, chmodSync, writeFileSync, readFileSync, statSync, rmSync } = await import('node:fs');
    const { spawnSync } = await import('node:child_process');
    const { tmpdir } = await import('node:os');
    const { fileURLToPath } = await import('node:url');
    const root = mkdtempSync(join(tmpdir(), 'bb-audit-'));
    try {
      chmodSync(root, 0o755);
      const logs = join(root, 'logs');
      mkdirSync(logs, { mode: 0o755 }); // root's, not writable by the writer
      const path = join(logs, 'egress-audit.jsonl');
      for (const f of [path, `${path}.1`]) {
        writeFileSync(f, '', { mode: 0o600 });
        chownSync(f, 65534, 65534);
      }
      const mod = fileURLToPath(new URL('../../src/egress/log.ts', import.meta.url));
      const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));
      const script = `const { createAuditFile } = await import(${JSON.stringify(mod)});
        const a = createAuditFile(${JSON.stringify(path)}, 4000);
        for (let i = 0; i < 200; i++) { a.write({ id: i, pad: 'x'.repeat(100) }); await new Promise((r) => setTimeout(r, 2)); }
        await a.close();`;
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', tsx, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: '/' });
      expect(r.status, r.stderr).toBe(0);
      expect(statSync(logs).uid).toBe(0);
      const current = readFileSync(path, 'utf8');
      const rotated = readFileSync(`${path}.1`, 'utf8');
      // 200 records × ~120 bytes = ~24 KB written; the two generations hold at most ~2 × (4000 + a batch).
      expect(current.length + rotated.length).toBeLessThan(2 * (4000 + 3000));
      expect(rotated.length).toBeGreaterThan(0);
      const ids = current.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: number }).id);
      expect(ids.at(-1)).toBe(199);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 30_000);
});
