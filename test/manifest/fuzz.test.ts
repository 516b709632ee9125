/**
 * Fuzzing the manifest loader (docs/decisions/fuzzing-budget.md; docs/security-model.md "bad input"):
 * whatever the input, the loader returns a value or throws ManifestError (a BottleError with code
 * MANIFEST_INVALID) whose one-line message starts with the file it is about — never another
 * exception, never a hang (each input is bounded, see test/helpers/fuzz-budget.ts), and it changes
 * nothing on disk. Time-budgeted: FUZZ_SECONDS per fuzzer (30 in CI, 3 locally), FUZZ_SEED replays.
 *
 * The last fuzzer writes temporary homes (bottles, agents, `extends` chains across files); the
 * unit project allows temporary files (vitest.config.ts), so it stays here.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { BottleError } from '../../src/errors.js';
import { ManifestError } from '../../src/manifest/errors.js';
import { decodeManifest } from '../../src/manifest/front-matter.js';
import { displayPath } from '../../src/manifest/home.js';
import { MAX_MANIFEST_BYTES, indexManifests, loadAgent, loadBottles, parseManifestText, resolveIdentity, selectBottleNames, summarizeAgent, summarizeBottle } from '../../src/manifest/loader.js';
import { validateRoute } from '../../src/manifest/route-schema.js';
import { parseEnvValue } from '../../src/manifest/env-entries.js';
import { normalizeHost } from '../../src/manifest/host.js';
import { bounded, describeInput, fuzzBudget, fuzzNote, type FuzzBudget } from '../helpers/fuzz-budget.js';
import { REPO_ROOT } from '../helpers/cli.js';

// Fixed-count properties of the small validators (cheap; not time-budgeted).
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

// ---------------------------------------------------------------- the property

const SHOWN = { bottle: '~/.bot-bottle/bottles/x.md', agent: '~/.bot-bottle/agents/x.md' } as const;

/** A ManifestError naming `shown` as its file, one line, with issues; anything else is a bug. */
function expectManifestError(e: unknown, shown: readonly string[], what: string): void {
  if (!(e instanceof ManifestError)) {
    throw new Error(`${what}: expected ManifestError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  expect(e).toBeInstanceOf(BottleError);
  expect(e.code).toBe('MANIFEST_INVALID');
  expect(e.issues.length).toBeGreaterThan(0);
  expect(e.message).not.toMatch(/[\n\r]/);
  if (!shown.some((s) => e.message.startsWith(`${s}:`))) throw new Error(`${what}: message does not start with the file (${shown.join(' | ')}): ${e.message}`);
}

/** Outcomes seen, so a fuzzer can show it reached both the value and the error branch. */
interface Tally {
  ok: number;
  errors: number;
}
const newTally = (): Tally => ({ ok: 0, errors: 0 });

function parseBoth(text: string, tally: Tally = newTally()): void {
  for (const kind of ['bottle', 'agent'] as const) {
    try {
      const r = parseManifestText(text, { kind, name: 'x', file: `/home/u/.bot-bottle/${kind}s/x.md`, shown: SHOWN[kind], userHome: '/home/u' });
      expect(typeof r.value).toBe('object');
      tally.ok++;
    } catch (e) {
      expectManifestError(e, [SHOWN[kind]], `${kind} parse`);
      tally.errors++;
    }
  }
}

/** Both branches reached (a generator that only ever produces errors tests little). */
function expectBothOutcomes(name: string, b: FuzzBudget, t: Tally): void {
  fuzzNote(`fuzz ${name}: ${t.ok} loaded, ${t.errors} refused (seed ${b.seed}, ${b.ms} ms)`);
  expect(t.ok).toBeGreaterThan(0);
  expect(t.errors).toBeGreaterThan(0);
}

// ---------------------------------------------------------------- generators

const KEYS = [
  // bottle
  'extends', 'env', 'egress', 'git-gate', 'agent_provider', 'routes', 'log',
  // route
  'host', 'port', 'matches', 'auth', 'tls_passthrough', 'git', 'dlp', 'allow_private_cidrs', 'paths', 'methods', 'headers', 'type', 'value',
  'scheme', 'token_ref', 'header', 'fetch', 'outbound_detectors', 'inbound_detectors', 'outbound_on_match',
  // git-gate
  'user', 'name', 'email', 'repos', 'url', 'key', 'host_key', 'read_only', 'protected_refs', 'allow_force_push', 'allow_delete',
  'allow_non_commit_refs', 'provider', 'path', 'provisioner_token', 'api_url',
  // agent_provider
  'template', 'dockerfile', 'auth_token', 'forward_host_credentials', 'settings',
  // agent
  'bottle', 'skills', 'description', 'model', 'color', 'memory', 'tools',
  // legacy and hostile
  'token_env', 'runtime', 'mounts', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '<<',
];
const SCALAR_WORDS = [
  'Bearer', 'token', 'Basic', 'header', 'exact', 'prefix', 'regex', '([', '(a+)+$', '*.com', '*.example.com', 'api.example.com', 'xn--bcher-kva.example',
  'bücher.example', 'EXAMPLE.COM.', '::1', '[::1]', '0x7f.1', '2130706433', '127.1', '::ffff:127.0.0.1', '169.254.169.254', 'all', 'false', 'yes', 'on',
  'ssh://git@h.example.com:2222/a.git', 'git@h.example.com:a/b.git', 'https://h.example.com/a.git', 'file:///x', '${HOME}', '${}', '$${X}', '?', '??x',
  '?Password for x', '/v1', '/v1/../x', 'static', 'gitea', 'github', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake', 'claude', 'codex', 'pi', '10.0.0.0/8',
  '169.254.169.254/32', 'fd00:ec2::254/128', 'GITEA_TOKEN', 'EGRESS_TOKEN_0', 'BOT_BOTTLE_X', 'PATH', 'supervise', 'redact', 'block', 'token_patterns',
  'known_secrets', 'entropy', 'naive_injection_detection', 'GET', 'get', 'refs/heads/*', 'main', '~/.ssh/id_ed25519', '../../etc/passwd', '\u0000', '\u202e',
];
const SCALAR = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom(...SCALAR_WORDS),
  fc.integer({ min: -5, max: 70000 }),
  fc.boolean(),
  fc.constant(null),
  fc.double(),
);
const KEY = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
const VALUE: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, SCALAR, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(KEY, tie('value'), { maxKeys: 5 }),
})).value;
const TOP = fc.dictionary(KEY, VALUE, { maxKeys: 6 });

/** An object serialised with varied YAML styles (block/flow, quoting). */
const GRAMMAR_YAML = fc
  .tuple(TOP, fc.constantFrom('block', 'flow', 'any'), fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL'))
  .map(([obj, collectionStyle, defaultStringType]) => {
    try {
      return stringify(obj, { aliasDuplicateObjects: false, collectionStyle, defaultStringType });
    } catch {
      return stringify(obj, { aliasDuplicateObjects: false });
    }
  });

const YAML_TOKENS = [
  'env:', 'egress:', 'routes:', '- host: a.com', '  - ', '  ', '{', '}', '[', ']', ',', ':', '&a', '*a', '!!str', '!!binary', '!!map', '!!set', '!!omap',
  '!!timestamp', '!!js/function', '!<tag:yaml.org,2002:str>', '!t', '!', '|', '>', '|-', '>+2', '"', "'", '#', '---', '...', '? ', 'extends: x', 'log: 1',
  'port: "1"', 'auth: {}', '\n', '\n  ', '\t', '%YAML 1.2', '%TAG ! tag:x,2000:', '<<: *a', 'null', '~', '\\u0000', '\u00a0', '\ufeff', '\u2028', 'x: &x\n  y: *x',
];
const TOKEN_SOUP = fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 40 }).map((t) => t.join(' '));

/** Known-valid manifests to mutate: the shipped examples plus a few dense fixtures. */
function seeds(): string[] {
  const out: string[] = [];
  for (const sub of ['bottles', 'agents']) {
    const dir = join(REPO_ROOT, 'examples', sub);
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.md')) out.push(readFileSync(join(dir, f), 'utf8'));
  }
  out.push(
    '---\nenv:\n  A: x\n  B: "${HOME}"\n  C: "?Prompt"\negress:\n  log: 2\n  routes:\n    - host: api.example.com\n      port: 8443\n      matches:\n        - paths: [{type: regex, value: "/v[0-9]+/.*"}]\n          headers: [{name: x-a, type: exact, value: b}]\n      auth: {scheme: header, header: x-api-key, token_ref: API_TOKEN}\n      dlp: {outbound_detectors: all, inbound_detectors: false, outbound_on_match: redact}\n      allow_private_cidrs: [10.0.0.0/8]\n    - {host: "*.cdn.example.com", tls_passthrough: true}\n---\n',
    '---\nbottle: [a, b]\nskills: [x]\ngit-gate:\n  user: {name: N, email: n@example.com}\n---\nbody\n',
  );
  return out;
}
const SEEDS = seeds();

type Mutation = { op: 'delete' | 'dup' | 'insert' | 'swap' | 'char' | 'indent' | 'truncate'; at: number; len: number; text: string };
const MUTATION: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('delete', 'dup', 'insert', 'swap', 'char', 'indent', 'truncate'),
  at: fc.nat(),
  len: fc.nat({ max: 40 }),
  text: fc.oneof(fc.constantFrom(...YAML_TOKENS), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom(...KEYS).map((k) => `${k}: `)),
});

function mutate(base: string, muts: readonly Mutation[]): string {
  let s = base;
  for (const m of muts) {
    const at = s.length === 0 ? 0 : m.at % (s.length + 1);
    const lines = s.split('\n');
    const li = lines.length === 0 ? 0 : m.at % lines.length;
    switch (m.op) {
      case 'delete':
        s = s.slice(0, at) + s.slice(at + m.len);
        break;
      case 'dup':
        lines.splice(li, 0, lines[li] ?? '');
        s = lines.join('\n');
        break;
      case 'insert':
        s = s.slice(0, at) + m.text + s.slice(at);
        break;
      case 'swap': {
        const lj = (li + 1 + m.len) % lines.length;
        [lines[li], lines[lj]] = [lines[lj] ?? '', lines[li] ?? ''];
        s = lines.join('\n');
        break;
      }
      case 'char':
        s = s.slice(0, at) + (m.text.slice(0, 1) || '\u0000') + s.slice(at + 1);
        break;
      case 'indent':
        lines[li] = ' '.repeat(m.len % 9) + (lines[li] ?? '').trimStart();
        s = lines.join('\n');
        break;
      case 'truncate':
        s = s.slice(0, at);
        break;
    }
  }
  return s;
}
const MUTATED = fc.tuple(fc.constantFrom(...SEEDS), fc.array(MUTATION, { minLength: 1, maxLength: 6 })).map(([b, m]) => mutate(b, m));

/** Inputs that stress the parser's resources rather than its grammar. */
const PATHOLOGICAL = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 6000 }), fc.constantFrom('[', '{a: ', '- ', '{', '[[')).map(([n, open]) => {
    const close = open === '- ' ? '' : open.includes('[') ? ']'.repeat(open.length) : '}';
    return `env: ${open.repeat(n)}1${close.repeat(n)}`;
  }),
  fc.integer({ min: 1, max: 400 }).map((n) => Array.from({ length: n }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' x'),
  fc.integer({ min: 1, max: 400 }).map((n) => `extends: ${'- '.repeat(n)}x`),
  // Billion laughs: each level aliases the previous one ten times.
  fc.integer({ min: 1, max: 12 }).map((levels) => {
    const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
    lines.push(`env: *a${levels}`);
    return lines.join('\n');
  }),
  fc.integer({ min: 1, max: 60 }).map((n) => `${'a: &x [*x]\n'.repeat(n)}`),
  // ≤ 64 Ki chars here (each call stays far below the per-input bound); the 256 KiB file cap is
  // checked once in "pathological inputs finish quickly".
  fc.tuple(fc.integer({ min: 1_000, max: 64 * 1024 }), fc.constantFrom('x', 'é', '😀', '\\', '"', ' ', '\t')).map(([n, c]) => `env:\n  A: "${c.repeat(Math.ceil(n / c.length))}"`),
  fc.integer({ min: 1, max: 64 * 1024 }).map((n) => `description: ${'x'.repeat(n)}`),
  fc.integer({ min: 1, max: 5000 }).map((n) => `env:\n${Array.from({ length: n }, (_, i) => `  V${i % 50}: x`).join('\n')}`),
  fc.integer({ min: 1, max: 3000 }).map((n) => `egress:\n  routes:\n${Array.from({ length: n }, (_, i) => `    - host: h${i}.example.com`).join('\n')}`),
  fc.constantFrom('!!binary aGVsbG8=', 'env: !!map {a: b}', 'env: !!set {a}', 'env: !!omap [{a: b}]', 'log: !!int "1"', 'log: !!float 1', '!!str env: x', 'env: !<tag:yaml.org,2002:map> {}', 'extends: !!seq [a]', '? [a, b]\n: c', '? {a: 1}\n: x', '1: x', 'null: x', '.inf: x', 'log: .nan', 'log: 0x10', 'log: 1e400'),
);

/** Front matter bodies wrapped the ways a file can frame them. */
const FRAMED = fc
  .tuple(fc.oneof(GRAMMAR_YAML, TOKEN_SOUP, PATHOLOGICAL), fc.constantFrom('---\n%s---\nbody\n', '---\n%s\n---\n', '---\n%s\n...\n', '---\r\n%s\r\n---\r\n', '\ufeff---\n%s\n---\n', '---\n%s', '%s', '---\n%s\n---\n---\nx: 1\n---\n'))
  .map(([y, frame]) => frame.replace('%s', y));

/** Counterexamples print truncated (a 64 Ki-char input would flood the report). */
function sample(text: string): { text: string } {
  return { text, [fc.toStringMethod]: () => describeInput(text) } as { text: string };
}

const ANY_TEXT = fc.oneof(
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 400 }).map((s) => `---\n${s}\n---\nbody`) },
  { weight: 3, arbitrary: FRAMED },
  { weight: 3, arbitrary: MUTATED },
).map(sample);

// ---------------------------------------------------------------- fuzzers

describe('manifest loader fuzzing (docs/decisions/fuzzing-budget.md)', () => {
  it('text: arbitrary, grammar-built, mutated and pathological front matter → a value or a ManifestError naming the file', () => {
    const b = fuzzBudget();
    const t = newTally();
    fc.assert(
      fc.property(ANY_TEXT, ({ text }) => bounded(b, 'parseManifestText', text, () => parseBoth(text, t))),
      b.params(),
    );
    expectBothOutcomes('manifest text', b, t);
  }, fuzzBudget().testTimeoutMs);

  it('bytes: arbitrary and mutated bytes through the file decoder → a value or a ManifestError', () => {
    const b = fuzzBudget();
    const t = newTally();
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      fc.tuple(fc.constantFrom(...SEEDS), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([s, flips]) => {
        const buf = Buffer.from(s, 'utf8');
        for (const [at, v] of flips) if (buf.length > 0) buf[at % buf.length] = v;
        return new Uint8Array(buf);
      }),
      // Overlong and surrogate UTF-8 forms, lone continuation bytes, a UTF-16 BOM.
      fc.constantFrom(
        Uint8Array.from([0x2d, 0x2d, 0x2d, 0x0a, 0xc0, 0xaf, 0x0a, 0x2d, 0x2d, 0x2d]),
        Uint8Array.from([0xed, 0xa0, 0x80]),
        Uint8Array.from([0xff, 0xfe, 0x2d, 0x00]),
        Uint8Array.from([0x80, 0x80]),
        Uint8Array.from([0xf4, 0x90, 0x80, 0x80]),
        // Found by this fuzzer (seed 108117143): a malformed escape in the URL's user once threw URIError.
        new Uint8Array(Buffer.from('---\ngit-gate:\n  repos:\n    w:\n      url: ssh://%it@h.example.com:2222/a.git\n---\n')),
        new Uint8Array(Buffer.from('---\ngit-gate:\n  repos:\n    w:\n      url: file:///srv/%e0%80.git\n---\n')),
      ),
    );
    fc.assert(
      fc.property(bytes, (raw) =>
        bounded(b, 'decodeManifest+parse', raw, () => {
          const text = decodeManifest(raw);
          if (text === null) return; // the loader turns this into "file is not valid UTF-8" (home fuzzer below)
          expect(text.includes('\r\n')).toBe(false);
          parseBoth(text, t);
        }),
      ),
      b.params(),
    );
    expectBothOutcomes('manifest bytes', b, t);
  }, fuzzBudget().testTimeoutMs);

  it('home: bottles, agents and extends chains across files in a temp home → loads or a typed error naming a file; nothing on disk changes', () => {
    const b = fuzzBudget(20_000);
    const root = mkdtempSync(join(tmpdir(), 'bb-fuzz-home-'));
    const t = newTally();
    try {
      let n = 0;
      fc.assert(
        fc.property(HOME, (spec) => {
          const dir = join(root, String(n++));
          try {
            const files = writeHome(dir, spec);
            const before = snapshot(dir);
            bounded(b, 'load home', spec, () => loadEverything(dir, spec, files, t));
            expect(snapshot(dir)).toEqual(before);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
        b.params(),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expectBothOutcomes('manifest home', b, t);
  }, fuzzBudget().testTimeoutMs);
});

// ---------------------------------------------------------------- the temp-home fuzzer

const BOTTLE_NAMES = ['b0', 'b1', 'b2', 'b3', 'b4'];
const AGENT_NAMES = ['a0', 'a1'];
/** `b5` is never written: extends/bottle references to it are "not found". */
const REF = fc.constantFrom(...BOTTLE_NAMES, 'b5', 'B0', '', '../b0');

type Content =
  | { kind: 'extends'; parents: string[]; asList: boolean; extra: string }
  | { kind: 'agent'; bottles: string[]; asList: boolean; extra: string }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'huge' }
  | { kind: 'symlink'; to: 'dangling' | 'dir' | 'sibling' | 'outside' }
  | { kind: 'directory' };

const EXTRA = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    'egress:\n  routes:\n    - host: api.example.com',
    'egress:\n  routes:\n    - {host: api.example.com, port: 443}',
    'egress:\n  routes:\n    - host: other.example.com\n      matches: [{methods: [GET]}]',
    'env:\n  A: x',
    'env:\n  A: y\n  B: "${HOME}"',
    'git-gate:\n  user: {name: N, email: n@example.com}',
    'agent_provider: {template: codex}',
    'egress:\n  log: 2',
  ),
  GRAMMAR_YAML,
);

const BOTTLE_CONTENT: fc.Arbitrary<Content> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('extends' as const), parents: fc.array(REF, { maxLength: 3 }), asList: fc.boolean(), extra: EXTRA }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.oneof(MUTATED, FRAMED).map((t) => t.slice(0, 8192)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'huge' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('symlink' as const), to: fc.constantFrom('dangling', 'dir', 'sibling', 'outside') }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'directory' as const }) },
);
const AGENT_CONTENT: fc.Arbitrary<Content> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('agent' as const), bottles: fc.array(REF, { maxLength: 3 }), asList: fc.boolean(), extra: fc.constantFrom('', 'git-gate:\n  user: {name: A}', 'skills: [x]', 'model: sonnet') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.oneof(MUTATED, FRAMED).map((t) => t.slice(0, 8192)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('symlink' as const), to: fc.constantFrom('dangling', 'dir', 'sibling', 'outside') }) },
);

interface HomeSpec {
  bottles: Array<[string, Content]>;
  agents: Array<[string, Content]>;
  repoAgents: Array<[string, Content]>;
  /** Explicit `--bottle` selections tried besides each agent's default. */
  selections: string[][];
}
const HOME: fc.Arbitrary<HomeSpec> = fc.record({
  bottles: fc.uniqueArray(fc.tuple(fc.constantFrom(...BOTTLE_NAMES), BOTTLE_CONTENT), { selector: (t) => t[0], maxLength: 5 }),
  agents: fc.uniqueArray(fc.tuple(fc.constantFrom(...AGENT_NAMES), AGENT_CONTENT), { selector: (t) => t[0], maxLength: 2 }),
  repoAgents: fc.uniqueArray(fc.tuple(fc.constantFrom(...AGENT_NAMES, 'r0'), AGENT_CONTENT), { selector: (t) => t[0], maxLength: 2 }),
  selections: fc.array(fc.array(REF, { maxLength: 3 }), { maxLength: 2 }),
});

function listYaml(key: string, names: string[], asList: boolean): string {
  if (names.length === 0) return '';
  return asList || names.length > 1 ? `${key}: [${names.map((x) => JSON.stringify(x)).join(', ')}]\n` : `${key}: ${JSON.stringify(names[0])}\n`;
}

function writeOne(file: string, c: Content, dir: string): void {
  switch (c.kind) {
    case 'extends':
      writeFileSync(file, `---\n${listYaml('extends', c.parents, c.asList)}${c.extra}\n---\nbody\n`);
      return;
    case 'agent':
      writeFileSync(file, `---\n${listYaml('bottle', c.bottles, c.asList)}${c.extra}\n---\nprompt\n`);
      return;
    case 'text':
      writeFileSync(file, c.text);
      return;
    case 'bytes':
      writeFileSync(file, c.bytes);
      return;
    case 'huge':
      writeFileSync(file, `---\ndescription: x\n---\n${'y'.repeat(300 * 1024)}`);
      return;
    case 'directory':
      mkdirSync(file);
      return;
    case 'symlink': {
      const target = { dangling: join(dir, 'nowhere.md'), dir, sibling: join(dir, 'outside.md'), outside: '/etc/hostname' }[c.to];
      symlinkSync(target, file);
      return;
    }
  }
}

/** Layout: dir = the user's home; dir/.bot-bottle = BOT_BOTTLE_HOME; dir/repo = cwd. Returns shown paths. */
function writeHome(dir: string, spec: HomeSpec): string[] {
  const home = join(dir, '.bot-bottle');
  const shown: string[] = [];
  for (const sub of ['bottles', 'agents']) mkdirSync(join(home, sub), { recursive: true });
  mkdirSync(join(dir, 'repo', '.bot-bottle', 'agents'), { recursive: true });
  writeFileSync(join(dir, 'outside.md'), '---\nbottle: b0\n---\n');
  const put = (file: string, c: Content): void => {
    writeOne(file, c, dir);
    shown.push(displayPath(file, dir));
  };
  for (const [name, c] of spec.bottles) put(join(home, 'bottles', `${name}.md`), c);
  for (const [name, c] of spec.agents) put(join(home, 'agents', `${name}.md`), c);
  for (const [name, c] of spec.repoAgents) put(join(dir, 'repo', '.bot-bottle', 'agents', `${name}.md`), c);
  return shown;
}

/** Every loader entry point a launch, `list` or `info` uses. */
function loadEverything(dir: string, spec: HomeSpec, shown: string[], tally: Tally): void {
  const index = indexManifests({ home: join(dir, '.bot-bottle'), cwd: join(dir, 'repo'), userHome: dir });
  const attempt = (what: string, fn: () => unknown): void => {
    try {
      fn();
      tally.ok++;
    } catch (e) {
      tally.errors++;
      if (e instanceof ManifestError) expectManifestError(e, shown, what);
      else if (!(e instanceof BottleError)) throw new Error(`${what}: expected a BottleError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  };
  for (const name of [...index.agents.keys(), 'missing']) {
    attempt(`agent ${name}`, () => {
      const agent = loadAgent(index, name);
      const names = selectBottleNames(agent, [], index);
      const sel = loadBottles(index, names);
      resolveIdentity(agent, sel.config);
      expect(sel.names).toEqual(names);
    });
    attempt(`summarize agent ${name}`, () => summarizeAgent(index, name));
    for (const flags of spec.selections) {
      attempt(`agent ${name} --bottle ${flags.join(',')}`, () => {
        const agent = loadAgent(index, name);
        loadBottles(index, selectBottleNames(agent, flags, index));
      });
    }
  }
  for (const name of [...index.bottles.keys(), 'b5']) {
    attempt(`bottle ${name}`, () => loadBottles(index, [name]));
    attempt(`summarize bottle ${name}`, () => summarizeBottle(index, name));
  }
  attempt('all bottles', () => loadBottles(index, [...index.bottles.keys()]));
}

/** Every entry under dir: type, mode, size, mtime and content hash (symlinks by target). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string): void => {
    const st = lstatSync(p);
    const base = `${st.mode.toString(8)} ${st.mtimeMs}`;
    if (st.isSymbolicLink()) out[p] = `${base} -> ${readlinkSync(p)}`;
    else if (st.isDirectory()) {
      out[p] = `${base} dir`;
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else out[p] = `${base} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
  };
  walk(dir);
  return out;
}

// ---------------------------------------------------------------- small validators (fixed run count)

describe('manifest validators (fixed-count properties)', () => {
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
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom(...SCALAR_WORDS)), (s) => {
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
    // The largest file the loader reads (MAX_MANIFEST_BYTES), in the slowest shape the fuzzer
    // found: one error per `""` pair (~0.7 s here).
    parseBoth(`---\nenv:\n  A: "${'"'.repeat(MAX_MANIFEST_BYTES - 20)}"\n---\n`);
    // Generous: the machine is shared; this guards against hangs, not speed.
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
