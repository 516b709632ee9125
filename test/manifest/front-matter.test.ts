import { describe, expect, it } from 'vitest';
import { decodeManifest, parseFrontMatter, splitFrontMatter } from '../../src/manifest/front-matter.js';
import type { Agent } from '../../src/manifest/types.js';
import { bottleError, expectMsg, parseAgentYaml, parseBottleYaml } from './helpers.js';
import { parseManifestText } from '../../src/manifest/loader.js';
import { ManifestError } from '../../src/manifest/errors.js';

describe('front-matter', () => {
  it('M33 duplicate key is an error naming the key and its line', () => {
    const e = bottleError('env:\n  A: x\nenv:\n  B: y');
    expectMsg(e, 'duplicate key "env"');
    expect(e.issues[0]?.line).toBe(4); // file line: '---' is line 1
    expect(e.message).toMatch(/^~\/bottles\/b\.md:4:1: /);
  });

  it('M33 duplicate nested key', () => {
    expectMsg(bottleError('env:\n  A: x\n  A: y'), 'duplicate key "A"');
  });

  it('M34 anchors and aliases are rejected', () => {
    expectMsg(bottleError('env: &e\n  A: x\negress: *e'), 'YAML anchors and aliases are not allowed');
    expectMsg(bottleError('env:\n  A: &v x\n  B: *v'), 'YAML anchors and aliases are not allowed');
  });

  it('M35 a list front-matter is an error', () => {
    expectMsg(bottleError('- a\n- b'), 'front-matter must be a mapping');
    expectMsg(bottleError('just a string'), 'front-matter must be a mapping');
  });

  it('rejects explicit tags', () => {
    expectMsg(bottleError('env:\n  A: !!str 5'), 'explicit YAML tags');
    expectMsg(bottleError('env:\n  A: !custom x'), 'explicit YAML tags');
  });

  it('rejects multiple documents', () => {
    // A bare `---` closes the front-matter, so a second document can only start as `--- x`.
    const r = parseFrontMatter('---\nenv: {}\n--- {}\n---\n');
    expect(r.problems.map((p) => p.message)).toContain('front-matter must be a single YAML document');
    expect(() => parseManifestText('---\nenv: {}\n--- {}\n---\n', { kind: 'bottle', name: 'b', file: '/b.md', shown: 'b.md', userHome: '/u' })).toThrow(ManifestError);
  });

  it('rejects non-string keys', () => {
    expectMsg(bottleError('env:\n  1: x'), 'mapping keys must be strings');
    expectMsg(bottleError('true: x'), 'mapping keys must be strings');
    expectMsg(bottleError('? [a]\n: x'), 'mapping keys must be strings');
  });

  it('unterminated front-matter is an error', () => {
    expect(() => parseManifestText('---\nenv: {}\n', { kind: 'bottle', name: 'b', file: '/b.md', shown: 'b.md', userHome: '/u' })).toThrow(/unterminated front-matter/);
  });

  it('no front-matter: whole file is the body', () => {
    const s = splitFrontMatter('hello\n---\nx');
    expect(s.yaml).toBeNull();
    const a = parseManifestText('You are helpful.\n', { kind: 'agent', name: 'a', file: '/a.md', shown: 'a.md', userHome: '/u' }).value;
    expect((a as { prompt: string }).prompt).toBe('You are helpful.');
  });

  it('`...` closes the front-matter; opening line may have trailing spaces', () => {
    const a = parseManifestText('---  \ndescription: hi\n...\nbody\n', { kind: 'agent', name: 'a', file: '/a.md', shown: 'a.md', userHome: '/u' }).value;
    expect((a as { description: string }).description).toBe('hi');
  });

  it('CRLF and BOM are accepted; invalid UTF-8 is refused', () => {
    const text = decodeManifest(Buffer.from('\ufeff---\r\ndescription: x\r\nbottle: b\r\n---\r\nPrompt\r\n', 'utf8'));
    expect(text).not.toBeNull();
    const a = parseManifestText(text as string, { kind: 'agent', name: 'a', file: '/a.md', shown: 'a.md', userHome: '/u' }).value as Agent;
    expect(a.bottles).toEqual(['b']);
    expect(a.prompt).toBe('Prompt');
    expect(decodeManifest(Buffer.from([0x2d, 0xff, 0xfe]))).toBeNull();
  });

  it('null values count as not declared; block scalars allowed', () => {
    const b = parseBottleYaml('env:\negress:\n  log:\nagent_provider:');
    expect(b.env).toBeUndefined();
    expect(b.log).toBeUndefined();
    const a = parseAgentYaml('description: |\n  multi\n  line');
    expect(a.description).toBe('multi\nline');
  });

  it('YAML 1.2 core keeps no/on as strings', () => {
    const b = parseBottleYaml('env:\n  A: no\n  B: on');
    expect(b.env?.map((e) => (e.kind === 'literal' ? e.value : ''))).toEqual(['no', 'on']);
  });

  it('syntax errors carry a position', () => {
    const e = bottleError('env: [a,\n');
    expect(e.issues[0]?.line).toBeGreaterThan(0);
    expectMsg(e, 'invalid YAML');
  });
});

describe('one-line messages', () => {
  it('a key containing a newline is escaped in the message (fuzz counterexample)', () => {
    const e = bottleError('? |\n  env:\n: x');
    expect(e.message).not.toMatch(/\n/);
    expect(e.message).toContain('\\x0a');
  });
});
