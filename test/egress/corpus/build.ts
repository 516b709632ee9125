/** Small builders for corpus records (keep the case files readable). */
import type { BodySpec, CorpusCase, CorpusSurface, RequestSpec } from './types.js';

export type Headers = ReadonlyArray<readonly [string, string]>;

export const bin = (b: Buffer): BodySpec => ({ base64: b.toString('base64') });

export function get(host: string, target: string, headers: Headers = []): RequestSpec {
  return { method: 'GET', url: `https://${host}${target}`, headers };
}

export function post(host: string, target: string, body: BodySpec, contentType: string, headers: Headers = [], method = 'POST'): RequestSpec {
  return { method, url: `https://${host}${target}`, headers: [['content-type', contentType], ...headers], body };
}

export const json = (v: unknown): string => JSON.stringify(v);

type CaseInput = Omit<CorpusCase, 'expect' | 'class' | 'surface' | 'id' | 'description'>;

/** `attack(class)(id, surface, description, spec)` */
export function attacks(cls: string) {
  return (id: string, surface: CorpusSurface, description: string, spec: CaseInput): CorpusCase => ({ id, class: cls, surface, description, expect: 'blocked', ...spec });
}

export function benigns(cls: string) {
  return (id: string, surface: CorpusSurface, description: string, spec: CaseInput): CorpusCase => ({ id, class: cls, surface, description, expect: 'allowed', ...spec });
}
