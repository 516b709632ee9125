/** Rows 17, 18 and F5: malformed framing, oversized and stalled requests against egress. */
import { RAW_CLIENT_PATH, RAW_CLIENT_SOURCE } from '../agent/raw-client.js';
import { HOSTS, type Attack, type AttackContext } from '../types.js';
import { curl, kv, pass } from './probe.js';

let seq = 0;
/** Installs the client under a fresh name (attacks run concurrently) and returns its path. */
async function install(ctx: AttackContext): Promise<string> {
  const path = `${RAW_CLIENT_PATH.replace(/\.cjs$/, '')}-${(seq += 1)}.cjs`;
  await ctx.bottle.exec(['/bin/sh', '-c', `cat > ${path}`], { stdin: RAW_CLIENT_SOURCE });
  return path;
}

async function raw(ctx: AttackContext, args: string[], timeoutMs = 60_000): Promise<Record<string, string>> {
  return kv(await ctx.bottle.exec(['node', await install(ctx), ...args], { timeoutMs }));
}

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
const H = HOSTS.api;
const SLOW_CONNS = 40;
/** egress closes a connection whose headers take longer than 30 s (checked every 5 s). */
const SLOW_SECONDS = 40;

function egressRssKb(ctx: AttackContext): number {
  return ctx.probes.sidecarProcesses().filter((p) => /sidecar\s+egress/.test(p.argv)).reduce((a, p) => a + p.rssKb, 0);
}

/** Samples egress's RSS every 200 ms while `fn` runs; returns the peak in KiB. */
async function peakRss<T>(ctx: AttackContext, fn: () => Promise<T>): Promise<{ value: T; peakKb: number; baseKb: number }> {
  const baseKb = egressRssKb(ctx);
  let peakKb = baseKb;
  const timer = setInterval(() => (peakKb = Math.max(peakKb, egressRssKb(ctx))), 200);
  try {
    return { value: await fn(), peakKb, baseKb };
  } finally {
    clearInterval(timer);
  }
}

export const protocolAttacks: Attack[] = [
  {
    id: '17',
    title: 'request smuggling (CL+TE, duplicate CL, TE obfuscation), CR/LF in header values',
    expected: '400/403, nothing forwarded',
    async run(ctx) {
      const cases: Array<[string, string[]]> = [
        ['CL+TE', ['raw', H, b64(`POST /smuggle-a HTTP/1.1\r\nHost: ${H}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`)]],
        ['dup CL', ['raw', H, b64(`POST /smuggle-b HTTP/1.1\r\nHost: ${H}\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello12`)]],
        ['TE obfuscated', ['raw', H, b64(`POST /smuggle-c HTTP/1.1\r\nHost: ${H}\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`)]],
        ['bare CR in value', ['raw', H, b64(`GET /smuggle-d HTTP/1.1\r\nHost: ${H}\r\nX-A: a\rX-Injected: 1\r\n\r\n`)]],
        ['LF-only header', ['raw', H, b64(`GET /smuggle-e HTTP/1.1\r\nHost: ${H}\r\nX-A: a\nX-Injected: 1\r\n\r\n`)]],
        ['plain proxy CL+TE', ['plain', b64(`POST http://${H}/smuggle-f HTTP/1.1\r\nHost: ${H}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`)]],
      ];
      const seen: string[] = [];
      let ok = true;
      for (const [label, args] of cases) {
        const r = await raw(ctx, args);
        seen.push(`${label} ${r.status ?? r.error ?? '?'}`);
        if (r.status !== '400' && r.status !== '403') ok = false;
      }
      const forwarded = ctx.upstreams.received().includes('/smuggle-') || ctx.upstreams.received().includes('X-Injected');
      const control = (await curl(ctx, [`https://${H}/control`])).status === 200;
      return pass(`${seen.join('; ')}; forwarded: ${forwarded}; control ${control}`, ok && !forwarded && control);
    },
  },
  {
    id: '18',
    title: 'oversized headers / body, slowloris',
    expected: '431/400 + close; body refused; bounded memory; proxy keeps serving others',
    exclusive: true,
    // Runs during the whole live phase: it must outlast egress's 30 s header timeout.
    async start(ctx) {
      const slow = raw(ctx, ['slowloris', String(SLOW_CONNS), String(SLOW_SECONDS), H], (SLOW_SECONDS + 30) * 1000);
      await new Promise((r) => setTimeout(r, 10_000));
      const during = (await curl(ctx, [`https://${H}/during-slowloris`], 10)).status;
      return { slow: await slow, during };
    },
    async run(ctx) {
      const big = await raw(ctx, ['raw', H, b64(`GET /big HTTP/1.1\r\nHost: ${H}\r\nX-Big: ${'a'.repeat(40 * 1024)}\r\n\r\n`)]);
      const many = await raw(ctx, ['raw', H, b64(`GET /many HTTP/1.1\r\nHost: ${H}\r\n${Array.from({ length: 300 }, (_, i) => `X-${i}: v`).join('\r\n')}\r\n\r\n`)]);
      const huge = await raw(ctx, ['raw', H, b64(`POST /huge HTTP/1.1\r\nHost: ${H}\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\nabc`)]);
      const { value, peakKb, baseKb } = await peakRss(ctx, async () => ({ during: await curl(ctx, [`https://${H}/after-big`], 10) }));
      const slow = (await ctx.started('18')) as { slow: Record<string, string>; during: number } | { error: string };
      const slowOk = 'slow' in slow && slow.slow.slow_closed === `${SLOW_CONNS}/${SLOW_CONNS}` && slow.during === 200;
      const growthMb = Math.round((peakKb - baseKb) / 1024);
      const ok = ['431', '400'].includes(big.status ?? '') && big.closed === 'true' && ['431', '400'].includes(many.status ?? '') && ['403', '413'].includes(huge.status ?? '') && value.during.status === 200 && growthMb < 64 && slowOk;
      const slowText = 'slow' in slow ? `slowloris (${SLOW_CONNS} conns, ${SLOW_SECONDS} s) closed by egress ${slow.slow.slow_closed}, a request meanwhile ${slow.during}` : `slowloris error ${slow.error}`;
      return pass(`40 KiB header ${big.status} closed ${big.closed}; 300 headers ${many.status}; 64 MiB body ${huge.status}; then ${value.during.status}; ${slowText}; egress RSS +${growthMb} MiB`, ok);
    },
  },
  {
    id: 'F5',
    title: 'stalled uploads (3 × 30 MiB chunked, then silence) vs egress memory',
    expected: 'RSS stays within budget/cgroup limit; another request is served meanwhile; no stray process after teardown',
    exclusive: true,
    async run(ctx) {
      const limit = ctx.probes.sidecarMemoryLimit();
      const { value, peakKb, baseKb } = await peakRss(ctx, async () => {
        const stall = ctx.bottle.exec(['node', await install(ctx), 'stall', H, '3', '30', '8'], { timeoutMs: 90_000 });
        await new Promise((r) => setTimeout(r, 5000));
        const during = await curl(ctx, [`https://${H}/during-stall`], 15);
        return { stall: kv(await stall), during };
      });
      const growthMb = Math.round((peakKb - baseKb) / 1024);
      // Budget: the shared buffer budget (64 MiB default) plus 48 MiB for TLS and parser overhead.
      const withinBudget = growthMb < 64 + 48;
      const withinCgroup = limit === null || peakKb * 1024 < limit;
      const ok = withinBudget && withinCgroup && value.during.status === 200;
      return pass(`uploads: ${value.stall.uploads ?? value.stall.error ?? '?'}; egress RSS ${Math.round(baseKb / 1024)}→${Math.round(peakKb / 1024)} MiB (+${growthMb}); cgroup limit ${limit === null ? 'none' : `${Math.round(limit / 1048576)} MiB`}; request meanwhile ${value.during.status}`, ok);
    },
  },
];
