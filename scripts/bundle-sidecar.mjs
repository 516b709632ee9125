// Bundles the sidecar entry (dist/sidecar/entry.js, compiled by tsc) into dist/bundle/: the
// supervisor and its daemons load one pre-linked graph (docs/decisions/sidecar-bundle.md).
// Chunks sit beside the entry so relative lookups (version.ts's ../../package.json, the
// netns backend's package root three levels up) resolve as they do from dist/cli/.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { sidecar: `${root}dist/sidecar/entry.js` },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '[name]-[hash]',
  // Native or host-only code never runs in a sidecar; keep it out of the graph if a path names it.
  external: ['better-sqlite3'],
  // CommonJS dependencies inside an ES bundle still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __bbCreateRequire } from 'node:module'; const require = __bbCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
