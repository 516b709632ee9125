import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { printJson } from '../output.js';
import { EXIT } from '../../errors.js';
import { runDaemon } from '../../sidecar/run-daemon.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** `bot-bottle sidecar egress …` (docs/architecture.md §7). Registered by the sidecar command. */
export function registerSidecarEgress(sidecarCommand: Command): void {
  sidecarCommand
    .command('egress')
    .description('run the egress proxy daemon (internal), or evaluate one request offline with --check')
    .option('--routes <path>', 'route table file (default EGRESS_ROUTES)')
    .option('--listen <addr:port>', 'listen address (default EGRESS_LISTEN, 0.0.0.0:9099)')
    .option('--check <url>', 'evaluate one request against the table; no network, no credentials')
    .option('--method <method>', 'method for --check', 'GET')
    .option('--header <header>', "header 'Name: value' for --check (repeatable)", collect, [] as string[])
    .option('--body-file <file>', 'request body for --check')
    .option('--resolve <host=ip>', 'address for the --check SSRF check')
    .action(async (o: { routes?: string; listen?: string; check?: string; method: string; header: string[]; bodyFile?: string; resolve?: string }) => {
      if (o.check === undefined) {
        // `sidecar` has its own --listen, and commander (non-positional program) gives it
        // `sidecar egress --listen X` too: take it from there, adding egress's port when absent.
        const inherited = (sidecarCommand.opts() as { listen?: string }).listen;
        const listen = o.listen ?? (inherited === undefined ? undefined : /(^[^:]+|\]):\d+$/.test(inherited) ? inherited : `${inherited.includes(':') ? `[${inherited}]` : inherited}:9099`);
        // The daemon's modules load inside runDaemon: the supervisor loads this file too.
        process.exitCode = await runDaemon('egress', { ...(o.routes ? { routes: o.routes } : {}), ...(listen ? { listen } : {}) });
        return;
      }
      process.exitCode = await check(o as typeof o & { check: string });
    });
}

async function check(o: { routes?: string; check: string; method: string; header: string[]; bodyFile?: string; resolve?: string }): Promise<number> {
  const path = o.routes ?? process.env.EGRESS_ROUTES ?? '/etc/bot-bottle/live-config/routes.yaml';
  const fail = (msg: string): number => {
    process.stderr.write(`bot-bottle: error: ${msg}\n`);
    return EXIT.usage;
  };
  const [{ runCheck, checkExitCode }, { parseRoutesFile }, { compileRouteTable }] = await Promise.all([
    import('../../egress/check.js'),
    import('../../egress/routes-file.js'),
    import('../../egress/route-table.js'),
  ]);
  let table;
  try {
    table = compileRouteTable(parseRoutesFile(await readFile(path, 'utf8')));
  } catch (e) {
    return fail(`routes file ${path}: ${e instanceof Error ? e.message : 'unreadable'}`);
  }
  const headers: Array<[string, string]> = [];
  for (const h of o.header) {
    const i = h.indexOf(':');
    if (i <= 0) return fail(`--header "${h.slice(0, 40)}" must be 'Name: value'`);
    headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
  }
  let body: string | undefined;
  if (o.bodyFile) {
    try {
      body = await readFile(o.bodyFile, 'utf8');
    } catch {
      return fail(`cannot read --body-file ${o.bodyFile}`);
    }
  }
  let resolve: { host: string; ip: string } | undefined;
  if (o.resolve) {
    const m = /^([^=]+)=(.+)$/.exec(o.resolve);
    if (!m) return fail('--resolve must be HOST=IP');
    resolve = { host: m[1]!, ip: m[2]!.replace(/^\[|\]$/g, '') };
  }
  if (!/^https?:\/\//i.test(o.check)) return fail('--check needs an http:// or https:// URL');
  const r = runCheck(table, { url: o.check, method: o.method, headers, ...(body !== undefined ? { body } : {}), ...(resolve ? { resolve } : {}) });
  printJson(r);
  return checkExitCode(r);
}
