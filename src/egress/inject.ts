/**
 * Credential injection (docs/configuration.md §3.4.2) and the outbound header filter (R6). Pure.
 */
import type { AuthScheme } from '../manifest/types.js';

/** The single header egress adds: [lower-case name, value]. */
export function injectionHeader(auth: { scheme: AuthScheme; header: string }, value: string): [string, string] {
  switch (auth.scheme) {
    case 'Bearer':
      return ['authorization', `Bearer ${value}`];
    case 'token':
      return ['authorization', `token ${value}`];
    case 'Basic': {
      // `user:secret` is used as is; a bare secret gets the x-access-token user (GitHub, Gitea, GitLab).
      const pair = value.includes(':') ? value : `x-access-token:${value}`;
      return ['authorization', `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`];
    }
    case 'header':
      return [auth.header, value];
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate']);

export interface FilterOptions {
  /** Lower-case name of the route's injected header ('' when the route has no auth). */
  readonly injectedHeader: string;
  /** WebSocket upgrade: keep `Upgrade`/`Connection`, drop `Sec-WebSocket-Extensions`. */
  readonly websocket: boolean;
}

/**
 * Filters `rawHeaders` (Node's flat [name, value, …] list) into the list sent upstream: agent
 * credentials, every `x-bot-bottle-*`, hop-by-hop headers and those named by `Connection` go.
 * `content-length` is kept here; the forwarder re-sets it when the body changes.
 */
export function filterRequestHeaders(rawHeaders: readonly string[], opts: FilterOptions): string[] {
  let connectionNamed: Set<string> | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') {
      connectionNamed ??= new Set();
      for (const t of rawHeaders[i + 1]!.split(',')) {
        const n = t.trim().toLowerCase();
        if (n) connectionNamed.add(n);
      }
    }
  }
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (lower === 'authorization' || lower === 'proxy-authorization' || lower === opts.injectedHeader) continue;
    if (lower.startsWith('x-bot-bottle-')) continue;
    if (opts.websocket) {
      if (lower === 'sec-websocket-extensions') continue;
      if (lower === 'upgrade') {
        out.push(name, rawHeaders[i + 1]!);
        continue;
      }
      if (lower === 'connection') {
        out.push('Connection', 'Upgrade');
        continue;
      }
    }
    if (HOP_BY_HOP.has(lower)) continue;
    if (connectionNamed?.has(lower) && lower !== 'upgrade') continue;
    out.push(name, rawHeaders[i + 1]!);
  }
  return out;
}

/** Response headers relayed to the agent: hop-by-hop ones dropped, upstream deny headers too. */
export function filterResponseHeaders(rawHeaders: readonly string[], websocket: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase();
    if (lower.startsWith('x-bot-bottle-')) continue;
    if (!websocket && HOP_BY_HOP.has(lower)) continue;
    out.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return out;
}
