import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bodySurfaces, requestSurfaces } from '../../src/dlp/decode.js';
import { redactForLog } from '../../src/dlp/redact.js';
import type { Finding } from '../../src/dlp/types.js';
import { ALL, scanner } from './helpers.js';

/**
 * Benign traffic (registries, LLM API calls with code, base64 images, ids and hashes, minified JS,
 * lockfiles, public certificates, prose about security, config with placeholders): no detector may
 * block on any of it, through every decoded view (docs/decisions/dlp-v2-views-and-validators.md).
 */
const DIR = join(import.meta.dirname, 'fixtures/benign');
const s = scanner();
const TYPES: Record<string, string> = { json: 'application/json', js: 'application/javascript', html: 'text/html', md: 'text/markdown' };

const show = (f: readonly Finding[]): string => f.map((x) => `${x.detector}/${x.rule}${x.view ? `@${x.view}` : ''} ${x.masked}`).join('; ');

describe('benign fixtures: zero blocking findings', () => {
  const files = readdirSync(DIR).sort();
  it('the fixture set covers the classes of the brief', () => {
    for (const f of ['npm-registry.json', 'pypi-registry.json', 'llm-anthropic-request.json', 'llm-openai-request.json', 'image-base64.json', 'hashes-and-ids.txt', 'minified-js.txt', 'lockfiles.txt', 'public-certificates.txt', 'security-prose.md']) {
      expect(files).toContain(f);
    }
  });
  for (const file of files) {
    it(`${file}: as a request body`, () => {
      const text = readFileSync(join(DIR, file), 'utf8');
      const type = file === 'minified-js.txt' ? 'application/javascript' : (TYPES[file.split('.').pop()!] ?? 'text/plain');
      const f = s.scan(bodySurfaces(text, type), ALL).filter((x) => x.severity === 'block');
      expect(f, show(f)).toEqual([]);
    });
    it(`${file}: as git-gate surfaces (one file per surface)`, () => {
      const text = readFileSync(join(DIR, file), 'utf8');
      const f = s.scan([{ name: file, text }], new Set(['token_patterns', 'known_secrets']), { fragmentScope: 'surface' }).filter((x) => x.severity === 'block');
      expect(f, show(f)).toEqual([]);
    });
  }

  it('a whole benign request (headers, query, body) is clean and the log redactor leaves it unchanged', () => {
    const body = readFileSync(join(DIR, 'llm-anthropic-request.json'), 'utf8');
    const surfaces = requestSurfaces({
      host: 'api.anthropic.com',
      path: '/v1/messages',
      query: 'beta=true',
      headers: [
        ['content-type', 'application/json'],
        ['anthropic-version', '2023-06-01'],
        ['anthropic-beta', 'prompt-caching-2024-07-31,token-efficient-tools-2025-02-19'],
        ['user-agent', 'claude-cli/2.0.0 (external, cli)'],
        ['x-stainless-retry-count', '0'],
        ['accept-encoding', 'gzip, deflate, br'],
        ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      ],
      body,
      contentType: 'application/json',
    });
    const f = s.scan(surfaces, ALL).filter((x) => x.severity === 'block');
    expect(f, show(f)).toEqual([]);
    const line = 'GET /v1/models?page_token=CiAKGjBpNDd2Nmp2Zml2cXRiOWYyZ2Nqd3dh&limit=20 200 uuid=6ba7b810-9dad-11d1-80b4-00c04fd430c8';
    expect(redactForLog(line, s)).toBe(line);
  });
});
