/**
 * Replays the corpus through the real egress proxy (in-process createEgressServer via
 * test/egress/harness.ts, real sockets, real TLS) against recording loopback stand-ins, and judges
 * every case. Exported for bench code: `startCorpusEnv` + `replayCorpus` + `summarize`.
 *
 * Judgement
 * - attack (request): stopped when the proxy refused it (4xx carrying `x-bot-bottle-deny` / a body
 *   starting `egress:`, a refused CONNECT, or the connection closed without an answer) AND no
 *   request carrying the case's tag reached a stand-in AND no stand-in saw one of its `markers` AND,
 *   for wildcard-route names, egress never resolved the name (DNS is an exfiltration channel).
 *   Sequences (`all-steps`): stopped when at least one piece was refused and did not arrive.
 *   `judge: no-leak`: stopped when none of the markers reached a stand-in.
 *   `judge: smuggle`: stopped when no stand-in parsed a second request whose target is a marker
 *   (the carrier may be refused or forwarded as one framed request).
 * - attack (ws): stopped when the proxy closed the session (or refused the upgrade) and not all of
 *   the case's markers reached the WebSocket stand-in (RSV1 payloads inflated).
 * - attack (response): stopped when the agent got a refusal or an aborted answer and never the
 *   marker text (gzip undone).
 * - benign: passes when every request reached the stand-in intact (method, decoded target, body
 *   bytes, the case's headers) and the agent got a 2xx (for responses: the served bytes exactly;
 *   for ws: 101, every frame payload delivered, no close by the proxy).
 */
import { randomBytes } from 'node:crypto';
import { constants as zc, deflateRawSync } from 'node:zlib';
import { startInProc, SECRET0, type InProc } from '../harness.js';
import {
  TAG_HEADER, bodyBytes, header, openPlain, openTunnel, parseFrames, readAnswer, readableBody, startCorpusUpstream, startWsUpstream, wsFrame,
  type CorpusUpstream, type HttpAnswer, type SeenRequest, type WsUpstream,
} from './harness-extra.js';
import { API, GIT, NOPORT, OPEN, PATHS, WILD, WS, GIT_USERPASS } from './hosts.js';
import type { CorpusCase, CorpusThresholds, RequestSpec, ResponseSpec } from './types.js';

export const CORPUS_THRESHOLDS: CorpusThresholds = { minAttackBlockRate: 0.95, maxBenignFalsePositiveRate: 0.01 };

export interface CorpusEnv {
  proxy: InProc;
  /** Same routes, `dlpOversize: stream` with a 1 KiB buffer (cases with `proxy: 'stream'`). */
  streamProxy: InProc;
  upstream: CorpusUpstream;
  ws: WsUpstream;
  /** Every name egress asked its resolver for (lower-case). */
  lookups: string[];
  /** A fresh egress with the default proxy's routes and options (cases with `proxy: 'isolated'`). */
  isolated(): Promise<InProc>;
  close(): Promise<void>;
}

function hostOf(url: string): { scheme: string; host: string; port: number | null; rest: string } {
  const m = /^(https?):\/\/([^/?#]+)(.*)$/i.exec(url);
  if (!m) throw new Error(`corpus url not absolute: ${url}`);
  const auth = m[2]!;
  const pm = /^(.*):(\d+)$/.exec(auth);
  return { scheme: m[1]!.toLowerCase(), host: (pm ? pm[1]! : auth).toLowerCase(), port: pm ? Number(pm[2]) : null, rest: m[3] ?? '' };
}

function caseRequests(c: CorpusCase): RequestSpec[] {
  return c.request ? [c.request] : c.steps ? [...c.steps] : [];
}

/** Starts the stand-ins and two egress instances configured for the corpus. */
export async function startCorpusEnv(cases: readonly CorpusCase[]): Promise<CorpusEnv> {
  const names = new Set<string>([API, PATHS, GIT, NOPORT, OPEN, `cdn.${WILD}`]);
  for (const c of cases) for (const r of caseRequests(c)) names.add(hostOf(r.url).host);
  names.delete(WS);
  const responses = new Map<string, ResponseSpec>();
  for (const c of cases) if (c.response) responses.set(c.id, c.response);
  const up = await startCorpusUpstream([...names].filter((n) => /^[a-z0-9.-]+$/.test(n)), responses);
  const ws = await startWsUpstream([WS]);
  const known = [...new Set(cases.map((c) => c.knownSecret).filter((s): s is string => typeof s === 'string'))];
  const tokens: Record<string, string> = { EGRESS_TOKEN_0: SECRET0, EGRESS_TOKEN_1: GIT_USERPASS };
  known.forEach((s, i) => (tokens[`EGRESS_TOKEN_${100 + i}`] = s));
  const lookups: string[] = [];
  const resolver = async (h: string): Promise<string[]> => {
    const host = h.toLowerCase();
    lookups.push(host);
    if (host === 'corpus.test' || host.endsWith('.corpus.test')) return ['127.0.0.1'];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${h}`), { code: 'ENOTFOUND' });
  };
  const P = up.port;
  const L = 'allow_private_cidrs: [127.0.0.0/8]';
  // No `dlp` key: each route gets egress's own default detectors and policy.
  const routes = [
    `  - {host: ${API}, port: ${P}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, ${L}}`,
    `  - {host: ${PATHS}, port: ${P}, ${L}, matches: [{paths: [{type: prefix, value: /v1/allowed}]}]}`,
    `  - {host: ${GIT}, port: ${P}, auth: {scheme: Basic, token_env: EGRESS_TOKEN_1}, ${L}}`,
    `  - {host: "*.${WILD}", port: ${P}, ${L}}`,
    `  - {host: ${WS}, port: ${ws.port}, ${L}}`,
    `  - {host: ${NOPORT}, ${L}}`,
    `  - {host: ${OPEN}, port: ${P}, ${L}, dlp: {outbound_detectors: false, inbound_detectors: false, outbound_on_match: block}}`,
    '',
  ].join('\n');
  const proxy = await startInProc(routes, { tokens, resolver, log: 1 });
  const streamProxy = await startInProc(routes, { tokens, resolver, log: 1, dlpMaxBodyBytes: 1024, dlpOversize: 'stream' });
  return {
    proxy,
    streamProxy,
    upstream: up,
    ws,
    lookups,
    isolated: () => startInProc(routes, { tokens, resolver, log: 1 }),
    async close() {
      await proxy.close();
      await streamProxy.close();
      await up.close();
      await ws.close();
    },
  };
}

// ---------- replay ----------

export interface StepObservation {
  tag: string;
  host: string;
  spec: RequestSpec;
  /** Bytes of the body as the origin should see it (de-chunked). */
  sentBody: Buffer;
  sentTarget: string;
  connect: HttpAnswer | null;
  answer: HttpAnswer;
}

export interface WsObservation {
  tag: string;
  connect: HttpAnswer;
  upgrade: HttpAnswer | null;
  closedByProxy: boolean;
  closeCode: number | null;
  sent: Array<{ opcode: number; payload: Buffer }>;
}

export interface CaseRun {
  c: CorpusCase;
  steps: StepObservation[];
  ws: WsObservation | null;
  error: string | null;
  ms: number;
}

const NONE: HttpAnswer = { status: null, headers: [], body: Buffer.alloc(0), outcome: 'closed' };

function portFor(env: CorpusEnv, host: string): number {
  return host === WS ? env.ws.port : env.upstream.port;
}

function chunkBody(b: Buffer, size: number, trailers: ReadonlyArray<readonly [string, string]> = []): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) {
    const c = b.subarray(i, i + size);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${trailers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

async function sendRequest(env: CorpusEnv, proxy: InProc, spec: RequestSpec, tag: string, timeoutMs: number): Promise<StepObservation> {
  const u = hostOf(spec.url);
  const port = u.port ?? portFor(env, u.host);
  const subst = (s: string) => s.split('{port}').join(String(portFor(env, u.host)));
  const mode = spec.mode ?? 'tunnel';
  const target = spec.target ?? (mode === 'absolute' ? `${u.scheme}://${u.host}:${port}${u.rest || '/'}` : u.rest || '/');
  const body = bodyBytes(spec.body, subst);
  const base = { tag, host: u.host, spec, sentBody: body, sentTarget: target };
  const p = { proxyPort: proxy.port, caPem: proxy.caPem };
  if (mode === 'connect') {
    const s = await openPlain(p);
    s.write(`CONNECT ${u.host}:${port} HTTP/1.1\r\nHost: ${u.host}:${port}\r\n\r\n`);
    const a = await readAnswer(s, { timeoutMs, stopAtHead: (st) => st === 200 });
    s.destroy();
    return { ...base, connect: a, answer: a };
  }
  const hs = (spec.headers ?? []).map(([k, v]) => [k, subst(v)] as const);
  const lines: string[] = [`${spec.method} ${target} HTTP/1.1`];
  if (!hs.some(([k]) => k.toLowerCase() === 'host')) lines.push(`Host: ${u.host}:${port}`);
  for (const [k, v] of hs) lines.push(`${k}: ${v}`);
  lines.push(`${TAG_HEADER}: ${tag}`);
  if (!hs.some(([k]) => k.toLowerCase() === 'connection')) lines.push('Connection: close');
  let wire = body;
  if (spec.chunked) {
    if (!hs.some(([k]) => k.toLowerCase() === 'transfer-encoding')) lines.push('Transfer-Encoding: chunked');
    wire = chunkBody(body, spec.chunked.size, spec.chunked.trailers);
  } else if (!spec.rawFraming && (body.length > 0 || ['POST', 'PUT', 'PATCH'].includes(spec.method))) {
    lines.push(`Content-Length: ${body.length}`);
  }
  const bytes = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), wire]);
  if (mode === 'absolute') {
    const s = await openPlain(p);
    s.write(bytes);
    const a = await readAnswer(s, { timeoutMs, noBody: spec.method === 'HEAD' });
    s.destroy();
    return { ...base, connect: null, answer: a };
  }
  const t = await openTunnel(p, u.host, port, timeoutMs);
  if (!t.socket) return { ...base, connect: t.connect, answer: t.connect.status === 200 ? { ...NONE, error: t.handshakeError ?? 'tls' } : t.connect };
  t.socket.write(bytes);
  const a = await readAnswer(t.socket, { timeoutMs, noBody: spec.method === 'HEAD' });
  t.socket.destroy();
  t.raw.destroy();
  return { ...base, connect: t.connect, answer: a };
}

async function runWs(env: CorpusEnv, c: CorpusCase, timeoutMs: number): Promise<WsObservation> {
  const spec = c.ws!;
  const u = hostOf(spec.url);
  const port = u.port ?? portFor(env, u.host);
  const t = await openTunnel({ proxyPort: env.proxy.port, caPem: env.proxy.caPem }, u.host, port, timeoutMs);
  const obs: WsObservation = { tag: c.id, connect: t.connect, upgrade: null, closedByProxy: false, closeCode: null, sent: [] };
  if (!t.socket) return obs;
  const sock = t.socket;
  const lines = [
    `GET ${u.rest || '/'} HTTP/1.1`,
    `Host: ${u.host}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    `${TAG_HEADER}: ${c.id}`,
    ...(spec.headers ?? []).map(([k, v]) => `${k}: ${v}`),
  ];
  sock.write(`${lines.join('\r\n')}\r\n\r\n`);
  const up = await readAnswer(sock, { timeoutMs, stopAtHead: (s) => s === 101 });
  obs.upgrade = up;
  if (up.status !== 101) {
    sock.destroy();
    t.raw.destroy();
    return obs;
  }
  let closed = false;
  let weClosed = false;
  let echoes = 0;
  let buf = Buffer.from(up.rest);
  const onFrames = () => {
    const { frames, rest } = parseFrames(buf);
    buf = Buffer.from(rest);
    for (const f of frames) {
      if (f.opcode <= 2) echoes += 1;
      if (f.opcode === 8) {
        obs.closeCode = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
        if (!weClosed) obs.closedByProxy = true;
      }
    }
  };
  const closedP = new Promise<void>((resolve) => {
    sock.on('close', () => {
      closed = true;
      if (!weClosed) obs.closedByProxy = true;
      resolve();
    });
  });
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    onFrames();
  });
  sock.resume();
  onFrames();
  for (const f of spec.frames) {
    if (closed) break;
    let payload = bodyBytes(f.payload);
    obs.sent.push({ opcode: f.opcode, payload });
    if (f.deflate) {
      payload = deflateRawSync(payload, { finishFlush: zc.Z_SYNC_FLUSH });
      if (payload.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))) payload = payload.subarray(0, -4);
    }
    sock.write(wsFrame(f.opcode, payload, { fin: f.fin ?? true, rsv1: f.deflate ?? false }));
  }
  // Let the proxy judge the last frame: wait for the close, or for the stand-in's echo of every
  // data frame (then a little longer for trailing control frames), at most 1.5 s.
  const dataSent = spec.frames.filter((f) => f.opcode <= 2).length;
  let waiting = true;
  const echoed = new Promise<void>((resolve) => {
    const check = (): void => {
      if (!waiting) return;
      if (echoes >= dataSent) return resolve();
      setTimeout(check, 20);
    };
    check();
  }).then(() => new Promise((r) => setTimeout(r, 200)));
  await Promise.race([closedP, echoed, new Promise((r) => setTimeout(r, 1500))]);
  waiting = false;
  if (!closed && !obs.closedByProxy) {
    weClosed = true;
    sock.write(wsFrame(8, Buffer.from([0x03, 0xe8])));
    await Promise.race([closedP, new Promise((r) => setTimeout(r, 300))]);
  }
  sock.destroy();
  t.raw.destroy();
  return obs;
}

async function runCase(env: CorpusEnv, c: CorpusCase, timeoutMs: number): Promise<CaseRun> {
  const t0 = performance.now();
  const run: CaseRun = { c, steps: [], ws: null, error: null, ms: 0 };
  const own = c.proxy === 'isolated' ? await env.isolated() : null;
  const proxy = own ?? (c.proxy === 'stream' ? env.streamProxy : env.proxy);
  const work = (async () => {
    if (c.ws) run.ws = await runWs(env, c, timeoutMs);
    const reqs = caseRequests(c);
    for (let i = 0; i < reqs.length; i++) run.steps.push(await sendRequest(env, proxy, reqs[i]!, reqs.length > 1 ? `${c.id}#${i}` : c.id, timeoutMs));
  })();
  const limit = timeoutMs * Math.max(1, caseRequests(c).length) + 2000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch((e: unknown) => void (run.error = e instanceof Error ? e.message : String(e))),
    new Promise<void>((resolve) => (timer = setTimeout(() => ((run.error = `case timeout after ${limit} ms`), resolve()), limit))),
  ]);
  clearTimeout(timer);
  if (own) await own.close();
  run.ms = Math.round(performance.now() - t0);
  return run;
}

/** Replays `cases` with a concurrency limit and a per-request timeout; stream-proxy cases run last, one at a time. */
export async function replayCorpus(env: CorpusEnv, cases: readonly CorpusCase[], opts: { concurrency?: number; timeoutMs?: number } = {}): Promise<CaseRun[]> {
  const concurrency = opts.concurrency ?? 8;
  const timeoutMs = opts.timeoutMs ?? 8000;
  const runs = new Map<string, CaseRun>();
  const main = cases.filter((c) => c.proxy !== 'stream');
  let next = 0;
  const worker = async () => {
    while (next < main.length) {
      const c = main[next++]!;
      runs.set(c.id, await runCase(env, c, timeoutMs));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, main.length) }, worker));
  for (const c of cases.filter((x) => x.proxy === 'stream')) runs.set(c.id, await runCase(env, c, timeoutMs));
  // Late arrivals (a smuggled request, a frame in flight) count.
  await new Promise((r) => setTimeout(r, 300));
  return cases.map((c) => runs.get(c.id)!);
}

// ---------- judgement ----------

export interface Verdict {
  id: string;
  class: string;
  surface: string;
  expected: 'blocked' | 'allowed';
  observed: string;
  pass: boolean;
  detail: string;
}

function denyCode(a: HttpAnswer): string | undefined {
  return header(a, 'x-bot-bottle-deny');
}

function isRefusal(a: HttpAnswer): boolean {
  if (a.status === null) return a.outcome === 'closed';
  return a.status >= 400 && a.status < 500 && (denyCode(a) !== undefined || a.body.subarray(0, 7).toString('latin1') === 'egress:');
}

function describeAnswer(a: HttpAnswer, prefix = ''): string {
  if (a.status === null) return `${prefix}${a.outcome}${a.error ? `(${a.error})` : ''}`;
  const code = denyCode(a) ?? header(a, 'x-bot-bottle-error');
  const warn = header(a, 'x-bot-bottle-warn');
  // DLP denials name the first finding: `detector/rule in surface`.
  const f = code ? /([a-z_]+)\/([A-Za-z0-9_:.-]+) in ([A-Za-z0-9_:.+-]+)/.exec(a.body.toString('utf8')) : null;
  const surfaces = f ? f[3]!.replace(/\.$/, '').split('+') : [];
  const where = surfaces.length > 1 ? `${surfaces[0]}+${surfaces.length - 1} more` : surfaces[0];
  return `${prefix}${a.status}${code ? ` ${code}` : ''}${f ? ` ${f[1]}/${f[2]}@${where}` : ''}${warn ? ` warn:${warn}` : ''}${a.outcome !== 'response' ? ` ${a.outcome}` : ''}`;
}

function stepAnswer(s: StepObservation): { refused: boolean; text: string } {
  if (s.connect && s.connect.status !== 200) return { refused: isRefusal(s.connect), text: describeAnswer(s.connect, 'CONNECT ') };
  if (s.spec.mode === 'connect') return { refused: false, text: describeAnswer(s.answer, 'CONNECT ') };
  return { refused: isRefusal(s.answer), text: describeAnswer(s.answer) };
}

const HOP = new Set(['host', 'connection', 'accept-encoding', 'transfer-encoding', 'content-length', 'trailer', 'te', 'keep-alive', 'upgrade', 'proxy-connection']);

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Requests the stand-in parsed whose target is a smuggled request line (`markers`): only a request
 * the origin saw as a request of its own counts, never the marker text inside a framed body.
 */
export function smuggledRequests(seen: readonly SeenRequest[], markers: readonly string[]): SeenRequest[] {
  return seen.filter((r) => markers.some((m) => r.url === m || r.url.startsWith(`${m}?`)));
}

export function judge(env: CorpusEnv, run: CaseRun): Verdict {
  const c = run.c;
  const base = { id: c.id, class: c.class, surface: c.surface, expected: c.expect };
  const seen = env.upstream.seen;
  const markers = c.markers ?? [];
  if (run.error && run.steps.length === 0 && !run.ws) return { ...base, observed: `error: ${run.error}`, pass: false, detail: run.error };

  if (c.ws) {
    const w = run.ws!;
    const sessions = env.ws.sessions.filter((s) => s.tag === c.id);
    const got = sessions.flatMap((s) => s.frames.map((f) => `${f.payload.toString('latin1')}\u0000${f.inflated?.toString('latin1') ?? ''}`)).join('\u0001');
    if (!w.upgrade || w.upgrade.status !== 101) {
      const a = w.upgrade ?? w.connect;
      const text = describeAnswer(a, w.upgrade ? '' : 'CONNECT ');
      if (c.expect === 'allowed') return { ...base, observed: text, pass: false, detail: 'upgrade refused' };
      return { ...base, observed: text, pass: isRefusal(a), detail: '' };
    }
    const observed = `101 ${w.closedByProxy ? `closed${w.closeCode !== null ? ` ${w.closeCode}` : ''}` : 'open'}`;
    if (c.expect === 'allowed') {
      const frames = sessions.flatMap((s) => s.frames);
      const delivered = w.sent.every((s) => frames.some((f) => f.opcode === s.opcode && f.payload.equals(s.payload)));
      return { ...base, observed, pass: !w.closedByProxy && delivered, detail: delivered ? '' : 'frames missing or altered at the stand-in' };
    }
    const leaked = markers.length > 0 && markers.every((m) => got.includes(m));
    return { ...base, observed: `${observed}${leaked ? ' LEAKED' : ''}`, pass: w.closedByProxy && !leaked, detail: leaked ? 'all marker pieces reached the ws stand-in' : '' };
  }

  const steps = run.steps;
  const texts = steps.map((s) => stepAnswer(s).text);
  const observedBase = steps.length === 1 ? texts[0]! : `${steps.length} steps: ${[...new Set(texts)].join(', ')}`;

  if (c.response) {
    const a = steps[0]?.answer ?? NONE;
    const readable = readableBody(a);
    if (c.expect === 'allowed') {
      const want = bodyBytes(c.response.body);
      const ok = a.status !== null && a.status >= 200 && a.status < 300 && a.outcome === 'response' && a.body.equals(want);
      return { ...base, observed: observedBase, pass: ok, detail: ok ? '' : 'response refused or altered' };
    }
    const markerSeen = markers.some((m) => readable.toString('utf8').includes(m) || a.body.toString('latin1').includes(m));
    const aborted = a.outcome !== 'response';
    const stopped = !markerSeen && (isRefusal(a) || aborted);
    return { ...base, observed: `${observedBase}${markerSeen ? ' PAYLOAD-DELIVERED' : ''}`, pass: stopped, detail: '' };
  }

  const stepLeaked = steps.map((s) => {
    const tagged = seen.filter((r) => r.tag === s.tag);
    const dns = s.host.endsWith(`.${WILD}`) && env.lookups.includes(s.host);
    const connectOpened = s.spec.mode === 'connect' && s.answer.status === 200;
    return { tagged: tagged.length > 0, dns, connectOpened, any: tagged.length > 0 || dns || connectOpened };
  });
  const globalMarker = markers.length > 0 && seen.some((r) => markers.some((m) => r.text.includes(m)));

  if (c.expect === 'allowed') {
    const problems: string[] = [];
    steps.forEach((s, i) => {
      const a = s.answer;
      if (!(a.status !== null && a.status >= 200 && a.status < 300)) problems.push(`step ${i}: ${texts[i]}`);
      const rec = seen.find((r) => r.tag === s.tag);
      if (!rec) return void problems.push(`step ${i}: never reached the stand-in`);
      if (rec.method !== s.spec.method) problems.push(`method ${rec.method}`);
      if (safeDecode(rec.url) !== safeDecode(s.sentTarget)) problems.push(`target became ${rec.url}`);
      if (!rec.body.equals(s.sentBody)) problems.push(`body altered (${rec.body.length} vs ${s.sentBody.length} bytes)`);
      for (const [k, v] of s.spec.headers ?? []) {
        if (HOP.has(k.toLowerCase())) continue;
        let found = false;
        for (let j = 0; j < rec.rawHeaders.length; j += 2) if (rec.rawHeaders[j]!.toLowerCase() === k.toLowerCase() && rec.rawHeaders[j + 1] === v.split('{port}').join(String(env.upstream.port))) found = true;
        if (!found) problems.push(`header ${k} altered`);
      }
    });
    return { ...base, observed: observedBase, pass: problems.length === 0, detail: problems.join('; ') };
  }

  if (c.judge === 'smuggle') {
    const smuggled = smuggledRequests(seen, markers);
    const note = smuggled.length > 0 ? ` SMUGGLED(${smuggled.map((r) => `${r.method} ${r.url}`).join(', ')})` : '';
    return { ...base, observed: `${observedBase}${note}`, pass: steps.length > 0 && smuggled.length === 0, detail: run.error ?? '' };
  }

  if (c.judge === 'no-leak') {
    const tagged = seen.filter((r) => steps.some((s) => s.tag === r.tag));
    const leaked = globalMarker || tagged.some((r) => markers.some((m) => r.text.includes(m)));
    return { ...base, observed: `${observedBase}${leaked ? ' LEAKED' : ' (marker dropped)'}`, pass: !leaked, detail: '' };
  }

  const refused = steps.map((s) => stepAnswer(s).refused);
  let stopped: boolean;
  let leakNote = '';
  if (c.leakRule === 'all-steps') {
    const allLeaked = stepLeaked.every((l) => l.any);
    stopped = !allLeaked && refused.some((x, i) => x && !stepLeaked[i]!.any) && !globalMarker;
    if (allLeaked) leakNote = ' LEAKED(all pieces)';
  } else {
    const anyLeaked = stepLeaked.some((l) => l.any) || globalMarker;
    stopped = !anyLeaked && refused.every((x) => x) && steps.length > 0;
    if (anyLeaked) {
      const l = stepLeaked.find((x) => x.any);
      leakNote = ` LEAKED(${[l?.tagged ? 'upstream' : '', l?.dns ? 'dns' : '', l?.connectOpened ? 'tunnel' : '', globalMarker ? 'marker' : ''].filter(Boolean).join('+')})`;
    }
  }
  return { ...base, observed: `${observedBase}${leakNote}`, pass: stopped, detail: run.error ?? '' };
}

// ---------- report ----------

export interface CorpusSummary {
  verdicts: Verdict[];
  passed: number;
  failed: number;
  attacks: number;
  attacksStopped: number;
  attackBlockRate: number;
  benign: number;
  benignRefused: number;
  benignFalsePositiveRate: number;
  perClass: Array<{ class: string; expected: 'blocked' | 'allowed'; total: number; ok: number; rate: number }>;
  report: string;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export function summarize(verdicts: Verdict[]): CorpusSummary {
  const attacks = verdicts.filter((v) => v.expected === 'blocked');
  const benign = verdicts.filter((v) => v.expected === 'allowed');
  const stopped = attacks.filter((v) => v.pass).length;
  const refused = benign.filter((v) => !v.pass).length;
  const classes = new Map<string, { expected: 'blocked' | 'allowed'; total: number; ok: number }>();
  for (const v of verdicts) {
    const e = classes.get(v.class) ?? { expected: v.expected, total: 0, ok: 0 };
    e.total += 1;
    if (v.pass) e.ok += 1;
    classes.set(v.class, e);
  }
  const perClass = [...classes].map(([cls, e]) => ({ class: cls, ...e, rate: e.ok / e.total }));
  const passed = verdicts.filter((v) => v.pass).length;
  const lines: string[] = [];
  lines.push(`${pad('id', 30)} | ${pad('class', 20)} | ${pad('surface', 8)} | ${pad('expected', 8)} | ${pad('observed', 60)} | pass`);
  lines.push('-'.repeat(146));
  for (const v of verdicts) lines.push(`${pad(v.id, 30)} | ${pad(v.class, 20)} | ${pad(v.surface, 8)} | ${pad(v.expected, 8)} | ${pad(v.observed, 60)} | ${v.pass ? 'PASS' : 'FAIL'}${v.detail && !v.pass ? `  (${v.detail})` : ''}`);
  lines.push('');
  lines.push('per class:');
  for (const p of perClass) lines.push(`  ${pad(p.class, 22)} ${p.expected === 'blocked' ? 'recall' : 'passed'} ${p.ok}/${p.total} (${(100 * p.rate).toFixed(1)}%)`);
  const attackBlockRate = attacks.length ? stopped / attacks.length : 1;
  const fp = benign.length ? refused / benign.length : 0;
  lines.push(`attack block rate: ${stopped}/${attacks.length} = ${(100 * attackBlockRate).toFixed(1)}%`);
  lines.push(`benign false-positive rate: ${refused}/${benign.length} = ${(100 * fp).toFixed(1)}%`);
  lines.push(`corpus: ${passed} passed, ${verdicts.length - passed} failed`);
  return {
    verdicts,
    passed,
    failed: verdicts.length - passed,
    attacks: attacks.length,
    attacksStopped: stopped,
    attackBlockRate,
    benign: benign.length,
    benignRefused: refused,
    benignFalsePositiveRate: fp,
    perClass,
    report: lines.join('\n'),
  };
}
