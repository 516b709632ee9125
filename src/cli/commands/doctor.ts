/**
 * `doctor [--backend <name>] [--json]` (docs/cli.md#commands): prerequisites and their fixes. The
 * checks live in src/doctor/ as data; this file only parses flags, prints and sets the exit code.
 */
import type { Command } from 'commander';
import { BACKEND_NAMES } from '../../backends/registry.js';
import { doctorJson, renderDoctorText } from '../../doctor/render.js';
import { doctorExitCode, runDoctor } from '../../doctor/report.js';
import { printJson, useColor } from '../output.js';

interface DoctorFlags {
  backend?: string;
  json?: boolean;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check prerequisites (home, manifests, backends, agent CLIs) and print fixes')
    .option('--backend <name>', `check only this backend (${BACKEND_NAMES.join(', ')})`)
    .option('--json', 'print a bot-bottle/doctor@1 JSON document')
    .addHelpText('after', '\nExit status: 0 when the backend (default: the one start would pick) is usable, 3 when not.\n\nExample:\n  $ bot-bottle doctor --backend netns\n')
    .action(async (flags: DoctorFlags) => {
      const report = await runDoctor({
        ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
        env: process.env,
        cwd: process.cwd(),
        uid: process.getuid?.(),
        nodeVersion: process.version,
      });
      if (flags.json) printJson(doctorJson(report));
      else process.stdout.write(renderDoctorText(report, { symbols: Boolean(process.stdout.isTTY), color: useColor(process.stdout) }, flags.backend));
      process.exitCode = doctorExitCode(report, flags.backend);
    });
}
