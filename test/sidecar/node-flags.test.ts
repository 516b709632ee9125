import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildChildEnv } from '../../src/sidecar/daemons.js';
import { EGRESS_SEMI_SPACE_MB, egressNodeFlags, egressOldSpaceMb } from '../../src/sidecar/node-flags.js';

const MiB = 1024 * 1024;

describe('egress node flags (docs/decisions/egress-memory.md)', () => {
  it('only the egress child gets NODE_OPTIONS, with the semi-space and old-space caps', () => {
    const parentEnv = { PATH: '/usr/bin', NODE_OPTIONS: '--inspect' };
    const eg = buildChildEnv({ daemon: 'egress', parentEnv, secrets: {} });
    expect(eg.NODE_OPTIONS).toBe(`--max-semi-space-size=${EGRESS_SEMI_SPACE_MB} --max-old-space-size=${egressOldSpaceMb({})}`);
    // The supervisor's own NODE_OPTIONS never reaches a child.
    expect(buildChildEnv({ daemon: 'git-gate', parentEnv, secrets: {} }).NODE_OPTIONS).toBeUndefined();
    expect(buildChildEnv({ daemon: 'supervise', parentEnv, secrets: {} }).NODE_OPTIONS).toBeUndefined();
  });

  it('sizes the old space to the connection cap and the buffer budget; bad values fall back to the defaults', () => {
    const def = egressOldSpaceMb({});
    // Defaults: 256 connections, budget max(64 MiB, 2 × 32 MiB).
    expect(def).toBe(96 + 8 + 256);
    expect(egressOldSpaceMb({ EGRESS_MAX_CLIENT_CONNECTIONS: '1280' })).toBe(def + 32);
    expect(egressOldSpaceMb({ EGRESS_BUFFER_BUDGET_BYTES: String(128 * MiB) })).toBe(def + 256);
    expect(egressOldSpaceMb({ EGRESS_DLP_MAX_BODY_BYTES: String(64 * MiB) })).toBe(def + 256);
    expect(egressOldSpaceMb({ EGRESS_BUFFER_BUDGET_BYTES: 'lots', EGRESS_MAX_CLIENT_CONNECTIONS: '-3' })).toBe(def);
  });

  it('Node accepts the flags in NODE_OPTIONS and applies the heap limit', () => {
    const flags = egressNodeFlags({});
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit))'], {
      env: { PATH: process.env.PATH, NODE_OPTIONS: flags },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const limitMb = Number(r.stdout) / MiB;
    // heap_size_limit = old space + the young generation (3 semi-spaces).
    expect(limitMb).toBeGreaterThanOrEqual(egressOldSpaceMb({}));
    expect(limitMb).toBeLessThanOrEqual(egressOldSpaceMb({}) + 3 * EGRESS_SEMI_SPACE_MB + 1);
  });
});
