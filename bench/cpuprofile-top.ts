/**
 * Prints the top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`, e.g. a bench run
 * with BENCH_EGRESS_NODE_ARGS="--cpu-prof --cpu-prof-dir=bench/profiles"), and the share of time
 * spent in our code (src/, dist/) against Node's own HTTP/TLS/stream internals, GC and idle.
 * Usage: npx tsx bench/cpuprofile-top.ts <file.cpuprofile> [top=30]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which bucket a frame's time belongs to. Pure: exported for reuse by other bench scripts. */
export function bucketOf(f: CallFrame): string {
  if (f.functionName === '(idle)') return 'idle';
  if (f.functionName === '(garbage collector)') return 'gc';
  if (f.functionName === '(program)') return 'program (native, unattributed)';
  if (/\/(src|dist)\/dlp\//.test(f.url)) return 'ours: dlp';
  if (/\/(src|dist)\//.test(f.url)) return 'ours: egress';
  if (f.url.startsWith('node:')) return 'node internals (http/tls/net/streams)';
  if (f.url.includes('node_modules')) return 'dependencies';
  return f.url === '' ? 'native / builtins' : 'other';
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: cpuprofile-top.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const top = Number(topArg ?? 30);
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const fnTime = new Map<string, { us: number; frame: CallFrame }>();
  const buckets = new Map<string, number>();
  let total = 0;
  let busy = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    const e = fnTime.get(key) ?? { us: 0, frame: f };
    e.us += us;
    fnTime.set(key, e);
    const b = bucketOf(f);
    buckets.set(b, (buckets.get(b) ?? 0) + us);
    total += us;
    if (b !== 'idle') busy += us;
  }
  const pct = (x: number, of: number) => `${((x / of) * 100).toFixed(1).padStart(5)} %`;
  process.stdout.write(`profile: ${file}\ntotal ${(total / 1e3).toFixed(0)} ms, busy (not idle) ${(busy / 1e3).toFixed(0)} ms\n\nshare of busy time:\n`);
  for (const [b, us] of [...buckets].sort((x, y) => y[1] - x[1])) if (b !== 'idle') process.stdout.write(`  ${pct(us, busy)}  ${b}\n`);
  process.stdout.write(`\ntop ${top} functions by self time (% of busy):\n`);
  for (const [k, e] of [...fnTime].filter(([, e]) => bucketOf(e.frame) !== 'idle').sort((x, y) => y[1].us - x[1].us).slice(0, top)) {
    process.stdout.write(`  ${pct(e.us, busy)}  ${(e.us / 1e3).toFixed(1).padStart(8)} ms  ${k}\n`);
  }
}

main();
