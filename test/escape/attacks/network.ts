/** Rows 7, 8, 10, F3 and the network "what held" checks: what the bottle's network does not reach. */
import net from 'node:net';
import { HOSTS, type Attack, type AttackContext } from '../types.js';
import { curl, kv, pass, refused, showCurl, tcpProbeScript } from './probe.js';

/** A host listener on `host:port` answering a marker; closed by the returned function. */
export async function hostListener(host: string, port = 0): Promise<{ port: number; close(): void; hits(): number } | null> {
  let hits = 0;
  const s = net.createServer((c) => {
    hits += 1;
    c.end('escape-suite-host-listener\n');
  });
  const ok = await new Promise<boolean>((r) => {
    s.once('error', () => r(false));
    s.listen(port, host, () => r(true));
  });
  if (!ok) return null;
  return { port: (s.address() as net.AddressInfo).port, close: () => s.close(), hits: () => hits };
}

const rawDnsScript = `node -e '
const d=require("dgram").createSocket("udp4");
const q=Buffer.from("123401000001000000000000076578616d706c6503636f6d0000010001","hex");
const t=setTimeout(()=>{console.log("dns=timeout");process.exit(0)},3000);
d.on("message",()=>{console.log("dns=ANSWER");process.exit(0)});
d.on("error",e=>{console.log("dns=error:"+e.code);process.exit(0)});
d.send(q,53,"8.8.8.8",e=>{if(e){console.log("dns=send:"+e.code);process.exit(0)}});'
perl -MIO::Socket::IP -e '$s=IO::Socket::IP->new(PeerHost=>"8.8.8.8",PeerPort=>53,Timeout=>2); print "dnstcp=".($s?"open":"closed:".($!+0))."\\n"'
getent hosts example.com >/dev/null 2>&1; echo "getent=$?"
getent hosts egress >/dev/null 2>&1; echo "getent_egress=$?"
`;

async function sidecarOpen(ctx: AttackContext): Promise<boolean> {
  const r = await ctx.sh(tcpProbeScript([{ label: 'egress', host: ctx.bottle.sidecarHost, port: ctx.bottle.ports.egress }]));
  return kv(r).egress === 'open';
}

export const networkAttacks: Attack[] = [
  {
    id: '7',
    title: 'DNS: getent, raw UDP/TCP to 8.8.8.8:53, DoH via the proxy',
    expected: 'no resolution / no route / 403 doh',
    async run(ctx) {
      const r = kv(await ctx.sh(rawDnsScript));
      const doh = await curl(ctx, ['-H', 'accept: application/dns-message', 'https://dns.google/dns-query?dns=q80BAAABAAAAAAAAB2V4YW1wbGUDY29tAAABAAE']);
      const dohOnRoute = await curl(ctx, [`https://${HOSTS.api}/dns-query?dns=q80BAAABAAAAAAAAB2V4YW1wbGUDY29tAAABAAE`]);
      const ok = r.getent !== '0' && r.getent_egress === '0' && r.dns !== 'ANSWER' && r.dns !== undefined && r.dnstcp !== 'open' && r.dnstcp !== undefined && refused(doh) && dohOnRoute.status === 403;
      return pass(`getent example.com rc=${r.getent} (control: egress rc=${r.getent_egress}); udp ${r.dns}; tcp ${r.dnstcp}; dns.google ${showCurl(doh)}; DoH-shaped on route ${showCurl(dohOnRoute)}`, ok);
    },
  },
  {
    id: '8',
    title: 'direct TCP to host loopback, host addresses, sidecar non-service ports, [::1]',
    expected: 'refused or timeout (only the sidecar ports answer)',
    async run(ctx) {
      const lo = await hostListener('127.0.0.1');
      const any = await hostListener('0.0.0.0');
      const any6 = await hostListener('::');
      try {
        const h = ctx.bottle.sidecarHost;
        const targets = [
          { label: 'control_egress', host: h, port: ctx.bottle.ports.egress },
          { label: 'loopback', host: '127.0.0.1', port: lo!.port },
          { label: 'v6_loopback', host: '::1', port: any6?.port ?? 1 },
          { label: 'hostend_anylistener', host: h, port: any!.port },
          ...[22, 53, 80, 111, 443, 631, 2375, 9098, 9101, 9419, 9421].map((p) => ({ label: `hostend_${p}`, host: h, port: p })),
          ...ctx.probes.otherHostAddresses().map((a, i) => ({ label: `hostaddr${i}_${a}`, host: a, port: any!.port })),
        ];
        const r = kv(await ctx.sh(tcpProbeScript(targets)));
        const open = targets.filter((t) => t.label !== 'control_egress' && r[t.label] === 'open').map((t) => t.label);
        const missing = targets.filter((t) => r[t.label] === undefined).map((t) => t.label);
        const hits = lo!.hits() + any!.hits() + (any6?.hits() ?? 0);
        const ok = r.control_egress === 'open' && open.length === 0 && missing.length === 0 && hits === 0;
        return pass(`control egress ${r.control_egress}; ${targets.length - 1} targets, open: ${open.join(',') || 'none'}${missing.length ? `; no result: ${missing.join(',')}` : ''}; listener hits ${hits}`, ok);
      } finally {
        lo?.close();
        any?.close();
        any6?.close();
      }
    },
  },
  {
    id: '10',
    title: 'unset the proxy env and connect directly',
    expected: 'no route',
    async run(ctx) {
      const script = [
        'unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy',
        `curl -s --max-time 4 https://${HOSTS.api}/ >/dev/null 2>&1; echo "byname=$?"`,
        `curl -s --max-time 4 --resolve ${HOSTS.api}:443:${ctx.upstreams.address} https://${HOSTS.api}/ >/dev/null 2>&1; echo "upstreamaddr=$?"`,
        'curl -s --max-time 4 https://1.1.1.1/ >/dev/null 2>&1; echo "public=$?"',
        'ip route 2>/dev/null | grep -c default | sed "s/^/defaultroutes=/"',
      ].join('\n');
      const r = kv(await ctx.sh(script));
      const withProxy = await curl(ctx, [`https://${HOSTS.api}/control`]);
      const ok = r.byname !== '0' && r.upstreamaddr !== '0' && r.public !== '0' && r.public !== undefined && r.defaultroutes === '0' && withProxy.status === 200;
      return pass(`curl rc: by name ${r.byname}, upstream addr ${r.upstreamaddr}, 1.1.1.1 ${r.public}; default routes ${r.defaultroutes}; control via proxy ${withProxy.status}`, ok);
    },
  },
  {
    id: 'F3',
    title: 'host service on 0.0.0.0:9100 (supervise port, not selected in this bottle)',
    expected: 'unreachable from the agent',
    async run(ctx) {
      const l = await hostListener('0.0.0.0', ctx.bottle.ports.supervise);
      try {
        const r = await curl(ctx, ['--noproxy', '*', '--connect-timeout', '3', `http://${ctx.bottle.sidecarHost}:${ctx.bottle.ports.supervise}/`], 5);
        const reached = r.body.includes('escape-suite-host-listener') || (l?.hits() ?? 0) > 0 || r.rc === 52 || r.rc === 1;
        const control = await sidecarOpen(ctx);
        const note = l ? '' : ' (port 9100 already bound on the host; probing that listener)';
        return pass(`${reached ? `REACHED the host listener (curl rc=${r.rc})` : `not reached (curl rc=${r.rc})`}; control egress open: ${control}${note}`, !reached && r.rc !== 0 && control);
      } finally {
        l?.close();
      }
    },
  },
  {
    id: 'H-net',
    title: 'no IPv6, no raw/ICMP/packet sockets, no ping',
    expected: 'no inet6 address besides none; socket() EPERM',
    async run(ctx) {
      const script = [
        'echo "v6addrs=$(grep -vc " lo$" /proc/net/if_inet6 2>/dev/null || echo 0)"',
        `perl -MSocket -e 'socket(my $s, AF_INET, SOCK_RAW, 1) ? print "raw=ok\\n" : print "raw=".($!+0)."\\n"; socket(my $p, 17, SOCK_RAW, 0x0300) ? print "packet=ok\\n" : print "packet=".($!+0)."\\n"; socket(my $i, AF_INET, SOCK_DGRAM, 1) ? print "icmpdgram=ok\\n" : print "icmpdgram=".($!+0)."\\n"; socket(my $l, AF_INET, SOCK_STREAM, 0) ? print "tcp=ok\\n" : print "tcp=".($!+0)."\\n"'`,
        'ping -c1 -W1 8.8.8.8 >/dev/null 2>&1; echo "ping=$?"',
      ].join('\n');
      const r = kv(await ctx.sh(script));
      // icmpdgram: an unprivileged ICMP socket may be created (net.ipv4.ping_group_range) but has no route.
      const ok = r.v6addrs === '0' && r.raw !== 'ok' && r.packet !== 'ok' && r.ping !== '0' && r.tcp === 'ok';
      return pass(`inet6 addrs ${r.v6addrs}; raw ${r.raw}; packet ${r.packet}; icmp-dgram ${r.icmpdgram}; ping rc ${r.ping}; control tcp socket ${r.tcp}`, ok);
    },
  },
];
