/** Test helpers for the manifest layer: temp homes and in-memory parsing. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { ManifestError } from '../../src/manifest/errors.js';
import { parseManifestText } from '../../src/manifest/loader.js';
import type { OwnBottle } from '../../src/manifest/bottle-schema.js';
import type { Agent } from '../../src/manifest/types.js';

export function fm(yaml: string, body = ''): string {
  return `---\n${yaml.replace(/^\n/, '')}\n---\n${body}`;
}

export function parseBottleYaml(yaml: string, name = 'b'): OwnBottle {
  return parseManifestText(fm(yaml), { kind: 'bottle', name, file: `/h/bottles/${name}.md`, shown: `~/bottles/${name}.md`, userHome: '/home/u' }).value as OwnBottle;
}

export function parseAgentYaml(yaml: string, body = '', name = 'a'): Agent {
  return parseManifestText(fm(yaml, body), { kind: 'agent', name, file: `/h/agents/${name}.md`, shown: `~/agents/${name}.md`, userHome: '/home/u' }).value as Agent;
}

/** Runs fn, expects a ManifestError, returns it. */
export function manifestError(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ManifestError) return e;
    throw new Error(`expected ManifestError, got ${String(e)}`);
  }
  throw new Error('expected ManifestError, got a value');
}

export function bottleError(yaml: string): ManifestError {
  return manifestError(() => parseBottleYaml(yaml));
}
export function agentError(yaml: string, body = ''): ManifestError {
  return manifestError(() => parseAgentYaml(yaml, body));
}

export function expectMsg(err: ManifestError, ...parts: Array<string | RegExp>): void {
  for (const p of parts) {
    if (typeof p === 'string') expect(err.message).toContain(p);
    else expect(err.message).toMatch(p);
  }
}

export interface TempTree {
  readonly root: string;
  readonly home: string;
  readonly cwd: string;
  readonly userHome: string;
  write(rel: string, text: string): string;
  cleanup(): void;
}

/** root/{home,cwd,user} ; `write('home/bottles/x.md', ...)`. */
export function tempTree(opts: { homeDir?: string; prefix?: string } = {}): TempTree {
  const root = mkdtempSync(join(tmpdir(), opts.prefix ?? 'bb-manifest-'));
  const home = join(root, opts.homeDir ?? 'home');
  const cwd = join(root, 'cwd');
  const userHome = join(root, 'user');
  for (const d of [home, cwd, userHome]) mkdirSync(d, { recursive: true });
  return {
    root,
    home,
    cwd,
    userHome,
    write(rel, text) {
      const p = join(root, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
