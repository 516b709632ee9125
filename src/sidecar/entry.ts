/**
 * Entry point of the sidecar bundle (dist/bundle/sidecar.js, built by scripts/bundle-sidecar.mjs):
 * the supervisor and its daemons start from one pre-linked file instead of resolving and compiling
 * a few hundred ES modules per process, and the bundle holds only what sidecars run — not the
 * command-line parser (docs/decisions/sidecar-bundle.md).
 */
import { closeInheritedFds } from '../cli/inherited-fds.js';
import { printError } from '../cli/output.js';
import { BottleError, EXIT } from '../errors.js';
import { runSidecarArgv } from './dispatch.js';

closeInheritedFds();
runSidecarArgv(process.argv).then(
  (code) => {
    if (code === null) {
      printError(new BottleError('USAGE', 'the sidecar bundle runs only `sidecar` processes', { fix: 'run the bot-bottle command for anything else' }));
      code = EXIT.usage;
    }
    process.exitCode = code;
  },
  (err: unknown) => {
    printError(err);
    process.exitCode = EXIT.error;
  },
);
