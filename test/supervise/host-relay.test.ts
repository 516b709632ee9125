/**
 * The launcher's relay (docs/supervise.md, "Spool"): imports its bottle's outbox, delivers
 * answers to the inbox, and creates no database while nothing was ever filed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRelay } from '../../src/supervise/host/relay.js';
import { openStore, storePath } from '../../src/supervise/store/index.js';
import { fileProposal, testHome, type TestHome } from './store-helpers.js';

let t: TestHome;
afterEach(() => t?.cleanup());

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(cond()).toBe(true);
}

describe('startRelay', () => {
  it('imports, delivers, and creates no store while nothing was filed', async () => {
    t = testHome();
    const spool = t.spool('alpha-1');
    const stop = startRelay({ home: t.home, slug: 'alpha-1', open: () => openStore(t.home, { onNotice: () => undefined }), storeExists: () => existsSync(storePath(t.home)), intervalMs: 20 });
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(storePath(t.home))).toBe(false);
      const id = fileProposal(spool, 'alpha-1');
      await until(() => !existsSync(join(spool, 'outbox', `${id}.json`)));
      const s = openStore(t.home, { onNotice: () => undefined });
      try {
        expect(s.listPending().map((p) => p.id)).toEqual([id]);
        s.decide({ id, decision: 'rejected', reason: 'not now', operator: 'op' });
      } finally {
        s.close();
      }
      await until(() => existsSync(join(spool, 'inbox', `${id}.json`)));
    } finally {
      stop();
    }
  });
});
