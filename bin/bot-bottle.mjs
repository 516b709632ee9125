#!/usr/bin/env node
// The installed command runs the compiled CLI only: a package never needs a TypeScript loader.
// A checkout builds dist/ on `npm ci` (the prepare script); `npm run dev` runs the sources.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const compiled = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(compiled)) {
  process.stderr.write(`bot-bottle: error: the compiled CLI is missing (${compiled}); run "npm run build" in ${root}\n`);
  process.exit(1);
}
await import(pathToFileURL(compiled).href);
