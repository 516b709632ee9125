/** Small probes the attacks share: curl from inside the bottle, result parsing, quoting. */
import type { AttackContext, ExecResult } from '../types.js';

export interface CurlResult {
  /** Final HTTP status (0 = none). */
  status: number;
  /** Status of the proxy's answer to CONNECT (0 = no CONNECT or none). */
  connect: number;
  body: string;
  rc: number;
  stderr: string;
}

/** curl inside the bottle; the proxy env of the agent applies unless args say otherwise. */
export async function curl(ctx: AttackContext, args: readonly string[], timeoutS = 15): Promise<CurlResult> {
  const r = await ctx.bottle.exec(['curl', '-sS', '--max-time', String(timeoutS), '-w', '\n@@%{http_code} %{http_connect}', ...args], { timeoutMs: (timeoutS + 10) * 1000 });
  const i = r.stdout.lastIndexOf('\n@@');
  const tail = i >= 0 ? r.stdout.slice(i + 3).trim().split(' ') : ['0', '0'];
  return { status: Number(tail[0] ?? 0), connect: Number(tail[1] ?? 0), body: i >= 0 ? r.stdout.slice(0, i) : r.stdout, rc: r.code, stderr: r.stderr.trim() };
}

/** Refused by the proxy: 403 on the request itself or on the CONNECT. */
export const refused = (c: CurlResult, status = 403) => c.status === status || c.connect === status;

export function showCurl(c: CurlResult): string {
  const head = c.body.split('\n')[0]?.slice(0, 90) ?? '';
  return `${c.connect ? `CONNECT ${c.connect} ` : ''}${c.status || `rc=${c.rc}`}${head ? ` "${head}"` : ''}`;
}

export function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `name=value` lines printed by a probe script, as a map. */
export function kv(r: ExecResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Za-z0-9_.:[\]-]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * A TCP connect test inside the bottle WITHOUT the proxy: prints `<label>=open|closed:<errno>`.
 * Uses perl (no curl semantics): open means the three-way handshake completed.
 */
export function tcpProbeScript(targets: ReadonlyArray<{ label: string; host: string; port: number }>, timeoutS = 2): string {
  const lines = targets.map(
    (t) =>
      `perl -MIO::Socket::IP -e '$s=IO::Socket::IP->new(PeerHost=>$ARGV[0],PeerPort=>$ARGV[1],Timeout=>${timeoutS}); print $s ? "open\\n" : "closed:".($!+0)."\\n"' ${sq(t.host)} ${t.port} | sed 's/^/${t.label}=/'`,
  );
  return lines.join('\n');
}

export function pass(observed: string, ok: boolean) {
  return { observed, pass: ok };
}
