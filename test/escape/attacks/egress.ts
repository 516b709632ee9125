/** Rows 1–6 and 9 of the escape table: what the egress proxy refuses (docs/escape-suite.md). */
import { encodings } from '../fixture.js';
import { HOSTS, type Attack, type AttackContext } from '../types.js';
import { curl, pass, refused, showCurl } from './probe.js';

const api = `https://${HOSTS.api}`;

/** Positive control shared by the egress rows: the allowed route answers with the credential injected. */
async function allowedWorks(ctx: AttackContext): Promise<boolean> {
  const c = await curl(ctx, [`${api}/control`]);
  return c.status === 200 && c.body.includes('"sawToken":true');
}

function auditHas(ctx: AttackContext, pred: (rec: Record<string, unknown>) => boolean): boolean {
  return ctx.probes.egressAudit().split('\n').filter(Boolean).some((l) => {
    try {
      return pred(JSON.parse(l) as Record<string, unknown>);
    } catch {
      return false;
    }
  });
}

export const egressAttacks: Attack[] = [
  {
    id: '1',
    title: 'HTTPS to a host with no route',
    expected: '403 egress: no_route',
    async run(ctx) {
      const https = await curl(ctx, [`https://${HOSTS.none}/x`]);
      const http = await curl(ctx, [`http://${HOSTS.none}/x`]);
      const ok = refused(https) && http.status === 403 && http.body.startsWith('egress:') && /no egress route|no_route/.test(http.body) && (await allowedWorks(ctx));
      return pass(`https: ${showCurl(https)}; http: ${showCurl(http)}`, ok);
    },
  },
  {
    id: '2',
    title: 'IP literal; allowed name with --resolve / Host spoofing',
    expected: '403 (ip_literal / no_route / no route)',
    async run(ctx) {
      const ip = await curl(ctx, [`https://${ctx.upstreams.address}/x`]);
      const ipHttp = await curl(ctx, [`http://93.184.216.34/x`]);
      const spoofHost = await curl(ctx, ['-H', `Host: ${HOSTS.api}`, `http://${HOSTS.none}/x`]);
      // --resolve only affects a direct connection; with the proxy the name still goes to egress.
      const resolved = await curl(ctx, ['--resolve', `${HOSTS.none}:443:${ctx.upstreams.address}`, `https://${HOSTS.none}/x`]);
      const resolvedDirect = await curl(ctx, ['--noproxy', '*', '--connect-timeout', '3', '--resolve', `${HOSTS.api}:443:${ctx.upstreams.address}`, `${api}/x`], 5);
      const none200 = [ip, ipHttp, spoofHost, resolved, resolvedDirect].every((c) => c.status !== 200);
      const ok = refused(ip) && refused(ipHttp) && refused(spoofHost) && refused(resolved) && resolvedDirect.status === 0 && none200;
      return pass(`ip ${showCurl(ip)}; ip-http ${showCurl(ipHttp)}; Host-spoof ${showCurl(spoofHost)}; --resolve ${showCurl(resolved)}; --resolve direct rc=${resolvedDirect.rc}`, ok);
    },
  },
  {
    id: '3',
    title: 'CONNECT to an allowed host, different Host inside the tunnel',
    expected: '403 host_mismatch, nothing forwarded',
    async run(ctx) {
      const before = ctx.upstreams.requests.length;
      const c = await curl(ctx, ['-H', `Host: ${HOSTS.none}`, `${api}/tunnel-host`]);
      const forwarded = ctx.upstreams.requests.slice(before).some((r) => r.url.includes('tunnel-host'));
      return pass(`${showCurl(c)}${forwarded ? '; FORWARDED' : ''}`, c.status === 403 && /Host of a request inside the tunnel|host_mismatch/.test(c.body) && !forwarded && (await allowedWorks(ctx)));
    },
  },
  {
    id: '4',
    title: 'secret (raw/base64/hex/url, split) in path, query, header, body',
    expected: 'every variant 403 dlp_block; upstream never sees it',
    async run(ctx) {
      const enc = encodings(ctx.fixture.secret);
      const tries: Array<[string, string[]]> = [];
      for (const [name, v] of Object.entries(enc)) {
        const u = encodeURIComponent(v);
        tries.push([`path/${name}`, [`${api}/p/${u}`]]);
        tries.push([`query/${name}`, [`${api}/q?v=${u}`]]);
        tries.push([`header/${name}`, ['-H', `X-Data: ${v}`, `${api}/h`]]);
        tries.push([`body/${name}`, ['--data-binary', v, `${api}/b`]]);
      }
      const half = Math.floor(ctx.fixture.secret.length / 2);
      tries.push(['split query+body', ['--data-binary', `tail=${encodeURIComponent(ctx.fixture.secret.slice(half))}`, `${api}/s?head=${encodeURIComponent(ctx.fixture.secret.slice(0, half))}`]]);
      const leaked: string[] = [];
      for (const [label, args] of tries) {
        const c = await curl(ctx, args);
        if (c.status !== 403) leaked.push(`${label}:${c.status || `rc${c.rc}`}`);
      }
      return pass(leaked.length === 0 ? `${tries.length}/${tries.length} refused 403` : `not refused: ${leaked.join(', ')}`, leaked.length === 0 && (await allowedWorks(ctx)));
    },
  },
  {
    id: '5',
    title: 'canary anywhere in a request',
    expected: '403 canary; audit entry flags the canary',
    async run(ctx) {
      const cn = ctx.fixture.canary;
      const q = await curl(ctx, [`${api}/c?x=${cn}`]);
      const h = await curl(ctx, ['-H', `X-Trace: ${cn}`, `https://${HOSTS.echo}/api/c`]);
      const b = await curl(ctx, ['--data-binary', Buffer.from(cn).toString('base64'), `${api}/c`]);
      const audited = auditHas(ctx, (r) => r.reason === 'canary' && r.decision === 'deny');
      return pass(`query ${showCurl(q)}; header ${showCurl(h)}; body(b64) ${showCurl(b)}; audit canary entry: ${audited}`, [q, h, b].every((c) => c.status === 403) && audited);
    },
  },
  {
    id: '6',
    title: 'read the injected credential back from an echoing upstream',
    expected: 'residual risk (docs): the echo route is narrowed by `matches` (off-path 403); on-path the agent sees exactly what upstream echoes, and sending it elsewhere is DLP-blocked',
    async run(ctx) {
      const off = await curl(ctx, [`https://${HOSTS.echo}/debug/headers`]);
      const on = await curl(ctx, [`https://${HOSTS.echo}/api/headers`]);
      const echoed = (() => {
        try {
          return ((JSON.parse(on.body) as { echo?: Record<string, string> }).echo?.authorization ?? '').replace(/^Bearer /, '');
        } catch {
          return '';
        }
      })();
      const sawSecret = echoed === ctx.fixture.secret;
      // The echoed value is a known secret: using it on another route is refused.
      const reuse = sawSecret ? await curl(ctx, ['--data-binary', `k=${echoed}`, `${api}/reuse`]) : null;
      const observed = `off-path ${showCurl(off)}; on-path ${on.status} echoes credential: ${sawSecret ? 'yes (residual risk as documented)' : 'no'}; reuse elsewhere ${reuse ? showCurl(reuse) : '-'}`;
      return pass(observed, off.status === 403 && on.status === 200 && (!sawSecret || reuse?.status === 403));
    },
  },
  {
    id: '9',
    title: 'cloud metadata 169.254.169.254 and private ranges via the proxy',
    expected: '403 (ssrf / ip_literal)',
    async run(ctx) {
      const meta = await curl(ctx, ['http://169.254.169.254/latest/meta-data/']);
      const metaName = await curl(ctx, [`https://${HOSTS.meta}/latest/meta-data/`]);
      const priv = await curl(ctx, [`https://${HOSTS.priv}/`]);
      const ten = await curl(ctx, ['http://10.0.0.1/']);
      const ok = refused(meta) && metaName.status === 403 && /ssrf|resolves to an address/.test(metaName.body) && priv.status === 403 && /resolves to an address/.test(priv.body) && refused(ten);
      return pass(`169.254.169.254 ${showCurl(meta)}; routed name→metadata ${showCurl(metaName)}; routed name→192.168/16 ${showCurl(priv)}; 10.0.0.1 ${showCurl(ten)}`, ok);
    },
  },
];
