import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fromMetadataFile, readMetadata, writeMetadata, type BottleMetadata } from '../../src/state/metadata.js';
import { slugify } from '../../src/state/slug.js';
import { resolveTokenValues } from '../../src/plan/resolve-token-values.js';
import { buildAgentEnv } from '../../src/plan/agent-env.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

const META: BottleMetadata = {
  slug: 'implementer-k3x9q',
  agentName: 'implementer',
  bottleNames: ['gitea-dev'],
  backend: 'docker',
  label: 'implementer',
  color: 'none',
  cwd: '/home/ada/src/webapp',
  copyCwd: true,
  startedAt: '2026-11-29T18:00:00Z',
  headless: false,
  template: 'claude',
  version: '0.1.0',
};

describe('metadata.json', () => {
  it("writes the Python original's snake_case keys (0600) and reads them back", async () => {
    const d = mkdtempSync(join(tmpdir(), 'bb-meta-'));
    dirs.push(d);
    const path = await writeMetadata(d, META);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      schema_version: 1,
      identity: 'implementer-k3x9q',
      agent_name: 'implementer',
      bottle_names: ['gitea-dev'],
      backend: 'docker',
      label: 'implementer',
      color: 'none',
      cwd: '/home/ada/src/webapp',
      copy_cwd: true,
      started_at: '2026-11-29T18:00:00Z',
      headless: false,
      template: 'claude',
      bot_bottle_version: '0.1.0',
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await readMetadata(d, 'implementer-k3x9q')).toEqual(META);
  });

  it('C25: Python-era metadata without backend reads as docker; missing state names the path', async () => {
    const m = fromMetadataFile({ identity: 'old-x', agent_name: 'a', bottle_names: ['b'], cwd: '/w' }, 'old-x');
    expect(m).toMatchObject({ slug: 'old-x', backend: 'docker', bottleNames: ['b'], color: 'none', template: 'claude' });
    const d = mkdtempSync(join(tmpdir(), 'bb-meta-'));
    dirs.push(d);
    await expect(readMetadata(join(d, 'nope'), 'nope')).rejects.toMatchObject({ code: 'STATE_NOT_FOUND', message: expect.stringContaining(join(d, 'nope')) });
    writeFileSync(join(d, 'metadata.json'), '{not json');
    await expect(readMetadata(d, 'x')).rejects.toMatchObject({ code: 'STATE_NOT_FOUND' });
  });
});

describe('properties', () => {
  it('slugify always yields 1–40 chars of [a-z0-9-] without edge dashes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (s) => {
        const out = slugify(s);
        expect(out).toMatch(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/);
      }),
    );
  });

  it('resolveTokenValues returns exactly the map keys and only referenced values', () => {
    const name = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 6 }), fc.dictionary(name, fc.string({ minLength: 1, maxLength: 12 }).filter((v) => !/[\r\n\0]/.test(v))), (refs, extra) => {
        const map = Object.fromEntries(refs.map((r, i) => [`EGRESS_TOKEN_${i}`, r]));
        const env: Record<string, string> = { ...extra };
        for (const r of refs) env[r] = `value-of-${r}`;
        const out = resolveTokenValues(map, env);
        expect(Object.keys(out)).toEqual(Object.keys(map));
        for (const [slot, ref] of Object.entries(map)) expect(out[slot]).toBe(env[ref]);
      }),
    );
  });
});

describe('agent env', () => {
  it('sets slug/label/colour and the canary; provider env wins over manifest env with a warning', () => {
    const r = buildAgentEnv({ slug: 's-1', label: 'Fix it', color: 'cyan', canary: 'c'.repeat(43), providerEnv: { A: 'p' }, providerName: 'codex', manifestEnv: { A: 'm', B: 'b' } });
    expect(r.env).toMatchObject({ BOT_BOTTLE_SLUG: 's-1', BOT_BOTTLE_LABEL: 'Fix it', BOT_BOTTLE_COLOR: 'cyan', BOT_BOTTLE_CANARY: 'c'.repeat(43), A: 'p', B: 'b' });
    expect(r.warnings).toEqual(['env A is also set by provider codex; the provider value wins']);
  });
});
