import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * src/dlp is shared by host and sidecars: pure code only (docs/architecture.md §2).
 * Allowed: node:crypto (HMAC), node:zlib (sync), node:buffer and its own files.
 */
const DIR = join(import.meta.dirname, '../../src/dlp');
const ALLOWED = new Set(['node:crypto', 'node:zlib', 'node:buffer']);

describe('src/dlp purity', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts'))) {
    it(`${file} imports only node:crypto/zlib/buffer and ./ files, and draws no randomness`, () => {
      const src = readFileSync(join(DIR, file), 'utf8');
      const specs = [...src.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
      for (const spec of specs) expect(spec.startsWith('./') || ALLOWED.has(spec), `${file}: ${spec}`).toBe(true);
      expect(src).not.toMatch(/Math\.random|randomBytes|randomUUID|getRandomValues|Date\.now|new Date\(|process\.|console\./);
      expect(src).not.toMatch(/zlib[^;]*\b(?:gunzip|inflate|brotliDecompress)\(/);
    });
  }
});
