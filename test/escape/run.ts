/**
 * `npm run test:escape -- --backend netns|docker [--only 1,2,F3]`: runs the sandbox-escape suite
 * against a real bottle, prints the table and `N passed, M failed`; exit 0 only when all pass.
 * A backend without an adapter (or missing capabilities) prints `SKIP (…)` and exits 0.
 */
import { adapterFor } from './backends/index.js';
import { allPassed, formatTable, runEscapeSuite } from './suite.js';

function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
}

const backend = arg('backend') ?? 'netns';
const only = arg('only');
const choice = adapterFor(backend);
if ('skip' in choice) {
  process.stdout.write(`SKIP (${choice.skip})\n`);
  process.exit(0);
}
const started = Date.now();
process.stderr.write(`escape suite on ${backend}: launching a real bottle…\n`);
const result = await runEscapeSuite(choice.adapter, {
  ...(only ? { only: new Set(only.split(',').map((s) => s.trim())) } : {}),
  onResult: (r) => process.stderr.write(`  ${r.pass ? 'pass' : 'FAIL'} ${r.id} ${r.title}\n`),
});
process.stdout.write(`${formatTable(result)}\n`);
process.stderr.write(`(${Math.round((Date.now() - started) / 1000)} s)\n`);
process.exit(allPassed(result) ? 0 : 1);
