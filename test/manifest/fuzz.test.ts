/**
 * Property-based tests (fuzz the parsers): whatever the input, the loader returns a
 * value or throws ManifestError — never another exception, never hangs. Runs are bounded.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ManifestError } from '../../src/manifest/errors.js';
import { parseManifestText } from '../../src/manifest/loader.js';
import { validateRoute } from '../../src/manifest/route-schema.js';
import { parseEnvValue } from '../../src/manifest/env-entries.js';
import { normalizeHost } from '../../src/manifest/host.js';

// FUZZ_RUNS raises the bound for a longer local search; CI keeps 300 per property.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

function parseBoth(text: string): void {
  for (const kind of ['bottle', 'agent'] as const) {
    try {
      parseManifestText(text, { kind, name: 'x', file: '/h/x.md', shown: '~/x.md', userHome: '/home/u' });
    } catch (e) {
      if (!(e instanceof ManifestError)) throw new Error(`non-ManifestError for ${JSON.stringify(text).slice(0, 300)}: ${String(e)}`);
      expect(e.issues.length).toBeGreaterThan(0);
      expect(e.message).not.toMatch(/\n/);
    }
  }
}

const KEYS = [
  'extends', 'env', 'egress', 'git-gate', 'agent_provider', 'routes', 'log', 'host', 'port', 'matches', 'auth', 'scheme', 'token_ref',
  'header', 'tls_passthrough', 'git', 'fetch', 'dlp', 'outbound_detectors', 'inbound_detectors', 'outbound_on_match',
  'allow_private_cidrs', 'paths', 'type', 'value', 'methods', 'headers', 'name', 'user', 'email', 'repos', 'url', 'key', 'provider',
  'path', 'host_key', 'read_only', 'protected_refs', 'template', 'dockerfile', 'auth_token', 'forward_host_credentials', 'settings',
  'bottle', 'skills', 'description', 'runtime', 'git', '__proto__', 'constructor', 'toString',
];
const SCALARS = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('Bearer', 'header', 'prefix', 'regex', '([', '*.com', '*.example.com', 'api.example.com', '::1', 'all', 'false',
    'ssh://git@h.example.com:2222/a.git', 'git@h.example.com:a/b.git', 'https://h.example.com/a.git', 'file:///x', '${HOME}', '?', '??x', '/v1',
    'static', 'gitea', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake', 'claude', 'codex', 'pi', '10.0.0.0/8', '169.254.169.254/32'),
  fc.integer({ min: -5, max: 70000 }),
  fc.boolean(),
  fc.constant(null),
  fc.double(),
);
const KEY = fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 }));
const VALUE: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, SCALARS, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(KEY, tie('value'), { maxKeys: 5 }),
})).value;
const TOP = fc.dictionary(KEY, VALUE, { maxKeys: 6 });

describe('manifest loader fuzzing (issue 2 acceptance)', () => {
  it('random strings: value or ManifestError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => parseBoth(s)), { numRuns: RUNS });
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => parseBoth(`---\n${s}\n---\nbody`)), { numRuns: RUNS });
  });

  it('random YAML-ish front-matter built from YAML tokens', () => {
    const token = fc.constantFrom(
      'env:', 'egress:', 'routes:', '- host: a.com', '  - ', '  ', '{', '}', '[', ']', ',', ':', '&a', '*a', '!!str', '!t', '|', '>',
      '"', "'", '#', '---', '...', '? ', 'extends: x', 'log: 1', 'port: "1"', 'auth: {}', '\n', '\n  ', '\t', '%YAML 1.2', '<<: *a', 'null', '~',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (toks) => parseBoth(`---\n${toks.join(' ')}\n---\n`)),
      { numRuns: RUNS },
    );
  });

  it('random objects serialised as front-matter', () => {
    fc.assert(
      fc.property(TOP, (obj) => {
        let yaml: string;
        try {
          yaml = stringify(obj, { aliasDuplicateObjects: false });
        } catch {
          return;
        }
        parseBoth(`---\n${yaml}---\nbody\n`);
      }),
      { numRuns: RUNS },
    );
  });

  it('random route objects through validateRoute: a Route or a ManifestError', () => {
    const routeKeys = fc.constantFrom('host', 'port', 'matches', 'auth', 'tls_passthrough', 'git', 'dlp', 'allow_private_cidrs', 'wat', 'role');
    fc.assert(
      fc.property(fc.dictionary(routeKeys, VALUE, { maxKeys: 6 }), (raw) => {
        try {
          const r = validateRoute(raw);
          expect(typeof r.host).toBe('string');
        } catch (e) {
          if (!(e instanceof ManifestError)) throw e;
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('host normalisation and env values never throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const h = normalizeHost(s);
        if (h.ok) expect(normalizeHost(h.host)).toMatchObject({ ok: true, host: h.host });
        const e = parseEnvValue('A', s);
        expect(['literal', 'host', 'prompted']).toContain(e.kind);
      }),
      { numRuns: RUNS },
    );
  });

  it('pathological inputs finish quickly', () => {
    const deep = `---\na: ${'['.repeat(2000)}${']'.repeat(2000)}\n---\n`;
    const deeper = `---\na: ${'{a: '.repeat(50_000)}1${'}'.repeat(50_000)}\n---\n`;
    const wide = `---\nenv:\n${Array.from({ length: 3000 }, (_, i) => `  V${i}: x`).join('\n')}\n---\n`;
    const t0 = Date.now();
    parseBoth(deep);
    parseBoth(deeper);
    parseBoth(wide);
    parseBoth(`---\n${'a: &x [*x]\n'.repeat(50)}---\n`);
    // Generous: the machine is shared; this guards against hangs, not speed.
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
