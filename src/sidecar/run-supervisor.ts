/**
 * The `bot-bottle sidecar` supervisor process (docs/architecture.md §7): reads the secrets, starts
 * one child per daemon with its scoped env, prints `ready …` once all report listening, forwards
 * signals. Run by the `sidecar` command and, for the exact argv the backends use, directly by
 * src/cli/main.ts without the command-line parser (docs/decisions/launch-processes.md).
 */
import { BottleError, EXIT, usageError } from '../errors.js';
import { VERSION } from '../version.js';
import type { DaemonName } from '../plan/bottle-plan.js';
import { buildChildEnv, parseDaemonList, parseSecretsJson, secretsFromEnv } from './daemons.js';
import { IMPLEMENTED_DAEMONS } from './run-daemon.js';
import { SidecarReadyTimeout, SidecarStartError, Supervisor, type ChildSpec } from './supervisor.js';

const MAX_STDIN_BYTES = 1 << 20;

/** One JSON object from stdin: up to the first newline or EOF; stdin is closed afterwards. */
function readSecretsLine(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stdin = process.stdin;
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onErr);
      stdin.pause();
      stdin.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (c: Buffer) => {
      const nl = c.indexOf(0x0a);
      chunks.push(nl >= 0 ? c.subarray(0, nl) : c);
      size += c.length;
      if (nl >= 0) finish();
      else if (size > MAX_STDIN_BYTES) finish(new Error('secrets on stdin exceed 1 MiB'));
    };
    const onEnd = () => finish();
    const onErr = (e: Error) => finish(e);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onErr);
  });
}

export interface SidecarOpts {
  daemons?: string;
  config?: string;
  listen?: string;
  tokensFromStdin?: boolean;
}

/** `bot-bottle sidecar [--daemons …] [--config …] [--listen …] [--tokens-from-stdin]`; resolves with its exit code. */
export async function runSupervisor(opts: SidecarOpts): Promise<number> {
  const implemented = [...IMPLEMENTED_DAEMONS];
  if (implemented.length === 0) {
    throw new BottleError('INTERNAL', 'no sidecar daemon is implemented in this build', { fix: 'update bot-bottle' });
  }
  const listText = opts.daemons ?? process.env.BOT_BOTTLE_SIDECAR_DAEMONS;
  let daemons: DaemonName[] = implemented;
  if (listText !== undefined && listText !== '') {
    const parsed = parseDaemonList(listText, implemented);
    if (!parsed.ok) throw usageError(parsed.message, `choose from: ${implemented.join(', ')}`);
    daemons = parsed.daemons;
    for (const d of parsed.skipped) process.stderr.write(`[supervisor] ${d} is not implemented in this version of bot-bottle; skipped\n`);
  }
  if (opts.config !== undefined && !opts.config.startsWith('/')) {
    throw usageError(`--config must be an absolute directory (got a relative path)`, 'pass the bottle state directory');
  }

  let secrets: Record<string, string>;
  if (opts.tokensFromStdin) {
    const parsed = parseSecretsJson(await readSecretsLine());
    if (!parsed.ok) throw new BottleError('USAGE', parsed.message, { fix: 'write one JSON object of sidecar secrets to stdin' });
    secrets = parsed.secrets;
  } else {
    secrets = secretsFromEnv(process.env);
  }

  const entry = process.argv[1];
  if (entry === undefined) throw new BottleError('INTERNAL', 'cannot find the bot-bottle entry point to start the daemons');
  const specs: ChildSpec[] = daemons.map((daemon) => ({
    daemon,
    command: process.execPath,
    args: [...process.execArgv, entry, 'sidecar', daemon],
    env: buildChildEnv({ daemon, parentEnv: process.env, secrets, configDir: opts.config, listen: opts.listen }),
  }));

  const sup = new Supervisor(specs);
  sup.on('output', (d, _s, line) => process.stderr.write(`[${d}] ${line}\n`));
  sup.on('killed', (d) => process.stderr.write(`[supervisor] ${d} did not stop within 8s; killed\n`));
  sup.on('exit', (d, code) => {
    if (sup.isReady()) process.stderr.write(`[supervisor] ${d} exited with ${code}\n`);
  });

  let stopSignal: NodeJS.Signals | null = null;
  const onStop = (sig: NodeJS.Signals) => {
    stopSignal = sig;
    void sup.stop(sig);
  };
  const onHup = () => sup.reload();
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  try {
    try {
      const ports = await sup.start();
      if (stopSignal === null) {
        const parts = daemons.map((d) => `${d}=${ports[d]}`).join(' ');
        process.stdout.write(`ready ${parts} version=${VERSION}\n`);
      }
    } catch (err) {
      if (stopSignal !== null) {
        // Stopped from outside while starting: no daemon is to blame.
        process.stderr.write(`bot-bottle: error: sidecar supervisor stopped by ${stopSignal} while the daemons were starting\n`);
        return stopSignal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
      }
      if (err instanceof SidecarStartError) {
        process.stderr.write(`bot-bottle: error: sidecar daemon ${err.daemon} exited with ${err.exitCode} before it was ready; see its [${err.daemon}] lines above\n`);
        return err.exitCode === 0 ? EXIT.error : err.exitCode;
      }
      if (err instanceof SidecarReadyTimeout) {
        process.stderr.write(`bot-bottle: error: ${err.message}; see the daemon lines above\n`);
        return EXIT.error;
      }
      throw err;
    }
    return await sup.wait();
  } finally {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHup);
  }
}

/**
 * The options of exactly the argv the backends start the supervisor with
 * (`sidecar --tokens-from-stdin --config <dir> --listen <addr> --daemons <list>`, src/backends/host-sidecar.ts);
 * null for anything else, which then goes through the full parser.
 */
export function directSupervisor(argv: readonly string[]): SidecarOpts | null {
  const a = argv.slice(2);
  if (a.length !== 8 || a[0] !== 'sidecar' || a[1] !== '--tokens-from-stdin' || a[2] !== '--config' || a[4] !== '--listen' || a[6] !== '--daemons') return null;
  if ([a[3], a[5], a[7]].some((v) => v === undefined || v.startsWith('-'))) return null;
  return { tokensFromStdin: true, config: a[3]!, listen: a[5]!, daemons: a[7]! };
}
