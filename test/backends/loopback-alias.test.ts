/**
 * The smolmachines loopback alias pool (docs/decisions/loopback-alias-pool.md): the pool and its
 * exhaustion error, claims written under the host-wide lock, stale claims reused, busy aliases
 * skipped, and real concurrency: several processes allocating at once get distinct aliases.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withMkdirLock } from '../../src/backends/host-lock.js';
import { aliasesUp, aliasPool, exhaustedMessage, pickAlias } from '../../src/backends/loopback-alias.js';
import { allocateAlias, readClaims, releaseClaim, type AliasClaim } from '../../src/backends/loopback-alias-claims.js';
import { BottleError } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers/cli.js';

const CHILD = fileURLToPath(new URL('./fixtures/allocate-alias.ts', import.meta.url));
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

const claim = (slug: string, ownerPid = process.pid): Omit<AliasClaim, 'alias'> => ({
  schema: 'bot-bottle/alias-claim@1', backend: 'smolmachines', slug, stateDir: '/nonexistent', ownerPid, sidecarPid: null,
  machine: '', agent: 'a', label: slug, color: 'none', bottles: [], daemons: ['egress'], headless: true, startedAt: new Date().toISOString(),
});

/** A pid that is certainly not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bb-alias-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const free = { isBusy: async () => false };

describe('loopback alias pool (pure)', () => {
  it('is 127.0.0.16–127.0.0.31, lowest free first, null when exhausted', () => {
    const pool = aliasPool();
    expect(pool).toHaveLength(16);
    expect(pool[0]).toBe('127.0.0.16');
    expect(pool.at(-1)).toBe('127.0.0.31');
    expect(pickAlias(new Set())).toBe('127.0.0.16');
    expect(pickAlias(new Set(['127.0.0.16', '127.0.0.17']))).toBe('127.0.0.18');
    expect(pickAlias(new Set(pool))).toBeNull();
  });

  it('reads the pool aliases that are up from `ifconfig lo0` (macOS)', () => {
    const out = 'lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384\n\tinet 127.0.0.1 netmask 0xff000000\n\tinet 127.0.0.16 netmask 0xff000000\n\tinet 127.0.0.40 netmask 0xff000000\n';
    expect([...aliasesUp(out)]).toEqual(['127.0.0.16']);
  });
});

describe('loopback alias claims', () => {
  it('allocates distinct aliases and writes a claim per bottle; release frees it', async () => {
    const a = await allocateAlias(claim('one'), { dir, ...free });
    const b = await allocateAlias(claim('two'), { dir, ...free });
    expect([a.alias, b.alias]).toEqual(['127.0.0.16', '127.0.0.17']);
    expect(readClaims(dir).map((c) => c.slug).sort()).toEqual(['one', 'two']);
    releaseClaim(a.alias, 'two', dir); // not its owner: kept
    expect(readClaims(dir)).toHaveLength(2);
    releaseClaim(a.alias, 'one', dir);
    expect(readClaims(dir).map((c) => c.slug)).toEqual(['two']);
    expect((await allocateAlias(claim('three'), { dir, ...free })).alias).toBe('127.0.0.16');
  });

  it('exhaustion: the 17th live bottle gets one clear error naming the pool and the fix', async () => {
    for (let i = 0; i < 16; i += 1) await allocateAlias(claim(`b${i}`), { dir, ...free });
    const err = await allocateAlias(claim('b16'), { dir, ...free }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BottleError);
    expect((err as BottleError).message).toBe(exhaustedMessage().message);
    expect((err as BottleError).message).toContain('127.0.0.16–127.0.0.31');
    expect((err as BottleError).fix).toContain('bot-bottle cleanup');
    expect(existsSync(join(dir, '127.0.0.31.json'))).toBe(true);
  });

  it("a dead bottle's claim (launcher and sidecar gone) is reused", async () => {
    const dead = await deadPid();
    await allocateAlias(claim('gone', dead), { dir, ...free });
    const next = await allocateAlias(claim('new'), { dir, ...free });
    expect(next.alias).toBe('127.0.0.16');
    expect(readClaims(dir).map((c) => c.slug)).toEqual(['new']);
  });

  it('an alias something already listens on is skipped, claimed or not (real listener)', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(9099, '127.0.0.16', r));
    try {
      const c = await allocateAlias(claim('x'), { dir });
      expect(c.alias).toBe('127.0.0.17');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('a slug that already holds a live alias is refused', async () => {
    await allocateAlias(claim('same'), { dir, ...free });
    await expect(allocateAlias(claim('same'), { dir, ...free })).rejects.toThrow(/already holds a loopback alias/);
  });

  it('concurrent allocation in several processes yields distinct aliases', async () => {
    const n = 6;
    const outs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        new Promise<string>((resolve) => {
          const c = spawn(TSX, [CHILD, dir, `p${i}`, String(process.pid)], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          c.stdout.on('data', (d: Buffer) => (out += d.toString()));
          c.once('close', () => resolve(out.trim()));
        }),
      ),
    );
    expect(outs.every((o) => /^127\.0\.0\.\d+$/.test(o))).toBe(true);
    expect(new Set(outs).size).toBe(n);
    expect(readClaims(dir)).toHaveLength(n);
  }, 120_000);
});

describe('mkdir lock (macOS, where there is no flock(1))', () => {
  it('excludes concurrent holders and takes over a dead owner\'s lock', async () => {
    const path = join(dir, 'lock.d');
    let inside = 0;
    let maxInside = 0;
    const hold = () =>
      withMkdirLock(async () => {
        inside += 1;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, 20));
        inside -= 1;
      }, { path });
    await Promise.all([hold(), hold(), hold(), hold()]);
    expect(maxInside).toBe(1);
    // A lock left by a process that died is taken over, not waited on.
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path);
    writeFileSync(join(path, 'owner'), `${await deadPid()}\n`);
    await expect(withMkdirLock(async () => 'taken', { path, timeoutSec: 5 })).resolves.toBe('taken');
    expect(existsSync(path)).toBe(false);
  });
});
