/** F2, row 19 and teardown: attacks from OUTSIDE the bottle, and what is left after it closes. */
import { HOSTS, type Attack, type AttackContext, type BottleHandle, type ExecResult } from '../types.js';
import { curl, pass } from './probe.js';

/** Through the bottle's egress from outside: `200` = its credential was injected for us. */
function useEgressArgv(b: BottleHandle): string[] {
  return ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--connect-timeout', '3', '--max-time', '8', '--insecure', '-x', `http://${b.sidecarHost}:${b.ports.egress}`, `https://${HOSTS.api}/from-outside`];
}
function useGateArgv(b: BottleHandle): string[] {
  return ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--connect-timeout', '3', '--max-time', '8', `http://${b.sidecarHost}:${b.ports.gitGate}/escape.git/info/refs?service=git-upload-pack`];
}
const code = (r: ExecResult) => r.stdout.trim() || '000';
const reached = (r: ExecResult) => code(r) !== '000';

async function controlFromInside(ctx: AttackContext): Promise<boolean> {
  return (await curl(ctx, [`https://${HOSTS.api}/control`])).status === 200;
}

export const outsideAttacks: Attack[] = [
  {
    id: 'F2a',
    title: 'another local uid (65534) uses the bottle\'s egress / git gate',
    expected: 'connection refused or timeout',
    async run(ctx) {
      const e = await ctx.probes.asOtherUid(useEgressArgv(ctx.bottle));
      const g = await ctx.probes.asOtherUid(useGateArgv(ctx.bottle));
      const control = await controlFromInside(ctx);
      return pass(`egress answered ${code(e)}${code(e) === '200' ? ' (credential injected for another user)' : ''}; gate answered ${code(g)}; control from inside ${control}`, !reached(e) && !reached(g) && control);
    },
  },
  {
    id: 'F2b',
    title: 'a "container"/LAN neighbour netns routed to the bottle\'s /30 via the host',
    expected: 'connection refused or timeout',
    async run(ctx) {
      const gw = await ctx.probes.neighbourGateway();
      const probeCtl = await ctx.probes.fromNeighbour(['sh', '-c', `curl -s -o /dev/null -w '%{http_code}' --connect-timeout 3 http://${gw}:1/; echo " rc=$?"`]);
      const e = await ctx.probes.fromNeighbour(useEgressArgv(ctx.bottle));
      const g = await ctx.probes.fromNeighbour(useGateArgv(ctx.bottle));
      // Positive control: the neighbour reaches the host at all (rc 7 = refused = a RST came back).
      const neighbourUp = /rc=7\b/.test(probeCtl.stdout);
      return pass(`egress answered ${code(e)}; gate answered ${code(g)}; neighbour→host control ${neighbourUp ? 'ok' : probeCtl.stdout.trim()}`, !reached(e) && !reached(g) && neighbourUp);
    },
  },
  {
    id: '19',
    title: 'a second bottle reaches this bottle\'s sidecar ports',
    expected: 'unreachable',
    async run(ctx) {
      const other = await ctx.probes.secondBottle();
      const b = ctx.bottle;
      const r = await other.exec(['/bin/sh', '-c', [
        `curl -s -o /dev/null --noproxy '*' --connect-timeout 3 http://${b.sidecarHost}:${b.ports.egress}/; echo "egress=$?"`,
        `curl -s -o /dev/null --noproxy '*' --connect-timeout 3 http://${b.sidecarHost}:${b.ports.gitGate}/; echo "gate=$?"`,
        `curl -s -o /dev/null --connect-timeout 3 -x http://${b.sidecarHost}:${b.ports.egress} https://${HOSTS.api}/; echo "asproxy=$?"`,
        `curl -s -o /dev/null --noproxy '*' --connect-timeout 3 http://${other.sidecarHost}:${other.ports.egress}/; echo "control=$?"`,
      ].join('\n')]);
      const v = Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=') as [string, string]));
      const unreachable = (x: string | undefined) => x === '7' || x === '28';
      const ok = other.sidecarHost !== b.sidecarHost && unreachable(v.egress) && unreachable(v.gate) && unreachable(v.asproxy) && v.control !== undefined && !unreachable(v.control);
      return pass(`curl rc egress ${v.egress}, gate ${v.gate}, as proxy ${v.asproxy}; control (own sidecar) ${v.control}`, ok);
    },
  },
  {
    id: 'T',
    title: 'teardown leaves nothing (cleanup --dry-run, kernel objects, processes)',
    expected: 'nothing reported for this bottle; no process of the bottle remains',
    phase: 'after-close',
    async run(ctx) {
      const after = ctx.after!;
      const [left, dry] = await Promise.all([after.leftovers(), after.cleanupDryRun()]);
      const stray = after.strayProcesses();
      const all = [...left, ...dry, ...stray];
      return pass(all.length === 0 ? 'nothing left' : `left: ${all.slice(0, 4).join('; ')}`, all.length === 0);
    },
  },
];
