/** Property tests for the gate's parsers: bad input is a clear error (config) or tolerated (git output). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { GateConfigError, parseGateConfig } from '../../src/gate/config.js';
import { parseBatch, parseDiffTree, parseTree } from '../../src/gate/objects.js';
import { parseRefUpdates } from '../../src/gate/policy.js';

describe('parser properties', () => {
  it('parseGateConfig: any YAML value either parses or throws GateConfigError naming the file', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('file:///x', 'ssh://h/x', 'https://h/x', 'GIT_GATE_TOKEN_0'));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('version', 'repos', 'name', 'url', 'ssh', 'https', 'policy', 'token_env', 'key_file', 'x'), tie('node'), { maxKeys: 4 })),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        try {
          parseGateConfig(stringify({ version: 1, repos: [v] }), 'cfg.yaml');
        } catch (e) {
          expect(e).toBeInstanceOf(GateConfigError);
          expect((e as Error).message.startsWith('cfg.yaml')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('object parsers never throw on arbitrary bytes (a push is attacker-controlled)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const buf = Buffer.from(bytes);
        parseBatch(buf);
        for (const e of parseTree(buf, 20)) expect(e.oid).toMatch(/^[0-9a-f]{40}$/);
        for (const r of parseDiffTree(buf)) expect(r.newOid).toMatch(/^[0-9a-f]+$/);
      }),
    );
  });

  it('parseRefUpdates: only well-formed lines pass', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseRefUpdates(s);
        if (Array.isArray(r)) for (const u of r) expect(`${u.oldOid} ${u.newOid} ${u.ref}`).toMatch(/^[0-9a-f]{40,64} [0-9a-f]{40,64} \S+$/);
      }),
    );
  });
});
