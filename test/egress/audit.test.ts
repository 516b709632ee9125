/**
 * Audit file (docs/security-model.md §2.3): JSON lines, 0600, batched writes flushed on close,
 * rotation to `.1`.
 */
import { describe, it, expect } from 'vitest';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createAuditFile, headersForLog, type AuditRecord } from '../../src/egress/log.js';
import { tempDir } from './harness.js';

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
