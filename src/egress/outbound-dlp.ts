/**
 * Outbound DLP for one request (docs/architecture.md §7, R8; docs/configuration.md §3.4.3): buffer
 * the body when a scan needs it, scan path, query, headers and body, and apply the route's verdict
 * (block, redact, supervise hold). Shared by the request relay and WebSocket upgrades.
 */
import type http from 'node:http';
import { decodeBody, decodeText, encodeText, requestSurfaces } from '../dlp/decode.js';
import { redactSurface } from '../dlp/redact.js';
import type { Finding } from '../dlp/types.js';
import { hasBody, readBody, type BudgetLease } from './body.js';
import { outboundSurfaces, withHeaderNames } from './surfaces.js';
import { dlpVerdict, type Allow } from './decide.js';
import type { DenyCode } from './deny.js';
import { findingsForLog, type AuditRecord } from './log.js';
import { DLP_NO_DETECTORS, headerOf, pairs, removeHeader, setHeader, type RelayContext, type Target } from './relay-context.js';

export interface Prepared {
  url: string;
  headers: string[];
  body: Buffer | null;
  findings: Finding[];
  decision: AuditRecord['decision'];
  proposal: string | null;
  /** The body outgrew the scan limit in `stream` mode: the rest is scanned while forwarded. */
  streamRest: boolean;
}

export type OnDeny = (code: DenyCode, findings?: readonly Finding[], proposal?: string | null) => void;

export interface BodyHooks {
  /** Takes the bytes buffered for scanning from the per-bottle budget. */
  readonly lease: BudgetLease;
  /** The client went away while its body was read: nothing to answer. */
  readonly gone: () => void;
}

/**
 * Buffers (when DLP needs it), scans, applies the verdict. Returns null when it already answered
 * through `onDeny` (or the client is gone). `body` null: the request's body is not read
 * (WebSocket upgrades). Never rejects: a body read settles on abort, timeout and budget too.
 */
export async function outboundDlp(ctx: RelayContext, req: http.IncomingMessage, body: BodyHooks | null, target: Target, d: Allow, id: number, headersOut: string[], onDeny: OnDeny): Promise<Prepared | null> {
  const { scanner, logger } = ctx;
  const route = d.route;
  const detectors = route.outbound;
  const needScan = detectors.size > 0 || ctx.hasCanary;
  let bytes: Buffer | null = null;
  let streamRest = false;
  if (body && needScan && hasBody(target.framing)) {
    // A declared length over the limit in `block` mode is refused before a byte is buffered.
    if (ctx.oversize === 'block' && target.framing.kind === 'length' && target.framing.length > ctx.maxBody) {
      onDeny('body_too_large');
      return null;
    }
    const r = await readBody(req, ctx.maxBody, ctx.t.bodyIdle, body.lease);
    switch (r.kind) {
      case 'aborted':
        body.gone();
        return null;
      case 'timeout':
        onDeny('body_timeout');
        return null;
      case 'budget':
        onDeny('buffer_budget');
        return null;
      case 'over':
        if (ctx.oversize === 'block') {
          onDeny('body_too_large');
          return null;
        }
        // stream: scan what was buffered, forward it, then keep scanning the rest in flight.
        streamRest = true;
        bytes = r.body;
        break;
      case 'ok':
        bytes = r.body;
        break;
    }
  }
  const result: Prepared = { url: target.url, headers: headersOut, body: bytes, findings: [], decision: 'allow', proposal: null, streamRest };
  if (!needScan) return result;
  const q = target.url.indexOf('?');
  const path = q < 0 ? target.url : target.url.slice(0, q);
  const query = q < 0 ? '' : target.url.slice(q + 1);
  let bodyText: string | undefined;
  let bodyEncoding: 'utf8' | 'latin1' = 'utf8';
  const contentEncoding = headerOf(headersOut, 'content-encoding');
  if (bytes && bytes.length > 0) {
    const dec = decodeBody(bytes, contentEncoding);
    if (!dec.ok) {
      onDeny('unscannable_encoding');
      return null;
    }
    const txt = decodeText(dec.bytes);
    bodyText = txt.text;
    bodyEncoding = txt.encoding;
  }
  const contentType = headerOf(headersOut, 'content-type');
  const surfaces = outboundSurfaces(target.host, target.url, result.headers, bodyText);
  const detSet = detectors.size > 0 ? detectors : DLP_NO_DETECTORS;
  const findings = scanner.scan(surfaces, detSet, { accumulator: ctx.accumulator, nowMs: Date.now() });
  result.findings = findings;
  if (findings.length === 0) return result;
  const v = dlpVerdict(findings, route);
  if (v.action === 'deny') {
    onDeny(v.code, v.findings);
    return null;
  }
  const logFields = (fs: readonly Finding[], action: string) => ({ req: id, method: req.method, host: target.host, path, route: route.label, findings: findingsForLog(fs, action) });
  if (v.action === 'allow') {
    if (v.warnings.length > 0) {
      result.decision = 'warn';
      logger.emit(1, 'egress_warn', { ...logFields(v.warnings, 'warn'), reason: 'dlp_warn' });
    }
    return result;
  }
  if (v.action === 'redact') {
    let newPath = redactSurface('path', path, v.findings);
    const newQuery = redactSurface('query', query, v.findings);
    const hdrs = result.headers.slice();
    for (let i = 0; i < hdrs.length; i += 2) {
      const surface = `header:${hdrs[i]!.toLowerCase()}`;
      if (v.findings.some((f) => f.surface === surface)) hdrs[i + 1] = redactSurface(surface, hdrs[i + 1]!, v.findings);
    }
    let newBody = bytes;
    let newBodyText = bodyText;
    if (bodyText !== undefined && v.findings.some((f) => f.surface === 'body')) {
      // Only the scanned prefix of a streamed oversized body is here: rewriting it would change
      // the length of a body whose rest is still to come. Refuse instead.
      if (streamRest) {
        onDeny('dlp_redact_failed', v.findings);
        return null;
      }
      newBodyText = redactSurface('body', bodyText, v.findings);
      newBody = encodeText(newBodyText, bodyEncoding);
      removeHeader(hdrs, 'content-encoding');
      setHeader(hdrs, 'content-length', String(newBody.length));
    }
    const rescan = scanner.scan(
      withHeaderNames(requestSurfaces({ host: target.host, path: newPath, query: newQuery, headers: pairs(hdrs).filter(([n]) => n !== 'host'), ...(newBodyText !== undefined ? { body: newBodyText } : {}), ...(contentType ? { contentType } : {}) }), hdrs),
      detSet,
    );
    if (rescan.some((f) => f.severity === 'block')) {
      onDeny('dlp_redact_failed', rescan.filter((f) => f.severity === 'block'));
      return null;
    }
    if (newPath === '') newPath = '/';
    result.url = newQuery || query ? `${newPath}?${newQuery}` : newPath;
    result.headers = hdrs;
    result.body = newBody;
    result.decision = 'redact';
    logger.emit(1, 'egress_redact', logFields(v.findings, 'redact'));
    return result;
  }
  // supervise
  logger.emit(1, 'egress_hold', { ...logFields(v.findings, 'hold'), reason: 'dlp_supervise' });
  const out = await ctx.holds.hold({
    bottle: ctx.opts.bottle,
    host: target.host,
    method: req.method ?? 'GET',
    path: logger.redact(path),
    findings: v.findings.map((f) => ({ detector: f.detector, rule: f.rule, surface: f.surface, masked: f.masked, fingerprint: f.fingerprint })),
  });
  result.proposal = out.proposal;
  if (out.status === 'approved') {
    if (ctx.shuttingDown) {
      onDeny('dlp_supervise_unavailable', v.findings, out.proposal);
      return null;
    }
    return result;
  }
  const code: DenyCode = out.status === 'rejected' ? 'dlp_supervise_rejected' : out.status === 'timeout' ? 'dlp_supervise_timeout' : 'dlp_supervise_unavailable';
  onDeny(code, v.findings, out.proposal);
  return null;
}

/**
 * Header names are agent-chosen text too (`x-<token>: 1` carries a token in the name): they are
 * scanned as one surface. A finding there cannot be rewritten, so a redact route refuses it.
 */
