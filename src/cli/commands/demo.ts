/**
 * `demo [--backend <name>] [--keep] [--json]` (docs/cli.md#commands): the security story, offline.
 */
import type { Command } from 'commander';
import { BottleError, EXIT } from '../../errors.js';
import { getBackend } from '../../backends/registry.js';
import { runDemo, DEMO_TITLES, type DemoStep } from '../../launch/demo/run-demo.js';
import { ANSI_COLORS, paint, printJson, useColor } from '../output.js';

/** One result line; PASS green and FAIL red when `colour` (from useColor). */
export function demoStepLine(step: DemoStep, colour: boolean): string {
  const mark = step.passed ? paint('PASS', ANSI_COLORS.green, colour) : paint('FAIL', ANSI_COLORS.red, colour);
  return `${step.id}/${DEMO_TITLES.length} ${step.title.padEnd(22)} ${mark}  ${step.detail}\n`;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('offline end-to-end demonstration: no API keys, no internet')
    .option('--backend <name>', 'isolation backend (default netns)')
    .option('--keep', 'keep the temporary home and state; print its path')
    .option('--json', 'print a bot-bottle/demo@1 JSON document')
    .addHelpText('after', '\nExample:\n  sudo bot-bottle demo\n')
    .action(async (flags: { backend?: string; keep?: boolean; json?: boolean }) => {
      // An empty BOT_BOTTLE_BACKEND counts as unset, as it does for start.
      const name = flags.backend ?? (process.env.BOT_BOTTLE_BACKEND || undefined) ?? 'netns';
      const backend = await getBackend(name);
      const avail = await backend.available();
      if (!avail.ok) throw new BottleError('BACKEND_UNAVAILABLE', `backend ${name} is unavailable: ${avail.reason}`, { fix: avail.fix });
      const controller = new AbortController();
      const onSig = (code: number) => () => controller.abort(code);
      const sigint = onSig(EXIT.sigint);
      const sigterm = onSig(EXIT.sigterm);
      process.on('SIGINT', sigint);
      process.on('SIGTERM', sigterm);
      const started = Date.now();
      try {
        if (!flags.json) process.stderr.write(`bot-bottle demo on ${name}: a real bottle, stand-in upstreams, a script agent\n`);
        const result = await runDemo({
          backend,
          keep: flags.keep === true,
          signal: controller.signal,
          onProgress: (m) => {
            if (!flags.json) process.stderr.write(`  … ${m}\n`);
          },
        });
        if (flags.json) {
          const { home: _home, ...doc } = result;
          printJson(flags.keep ? result : doc);
        } else {
          const colour = useColor(process.stdout);
          for (const s of result.steps) process.stdout.write(demoStepLine(s, colour));
          const n = result.steps.filter((s) => s.passed).length;
          process.stdout.write(`${n}/${result.steps.length} passed in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
          if (result.home) process.stdout.write(`kept: ${result.home}\n`);
        }
        process.exitCode = result.steps.every((s) => s.passed) ? EXIT.ok : EXIT.error;
      } finally {
        process.off('SIGINT', sigint);
        process.off('SIGTERM', sigterm);
      }
    });
}
