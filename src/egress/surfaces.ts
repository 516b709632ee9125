/**
 * The request surfaces outbound DLP scans (pure: shared by the relay and `--check`, which must stay
 * free of I/O modules; see test/egress/boundary.test.ts).
 */
import { requestSurfaces } from '../dlp/decode.js';
import type { Surface } from '../dlp/types.js';

/**
 * The surfaces outbound DLP scans for one request: path, query, headers (Host excepted; the
 * credential is injected later, so never among them), header names, body. Shared with `--check`.
 */
export function outboundSurfaces(host: string, url: string, headers: readonly string[], bodyText: string | undefined): Surface[] {
  const q = url.indexOf('?');
  const list: Array<[string, string]> = [];
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!.toLowerCase();
    if (n !== 'host') list.push([n, headers[i + 1]!]);
  }
  let contentType: string | undefined;
  for (let i = 0; i < headers.length; i += 2) if (contentType === undefined && headers[i]!.toLowerCase() === 'content-type') contentType = headers[i + 1];
  return withHeaderNames(
    requestSurfaces({ host, path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), headers: list, ...(bodyText !== undefined ? { body: bodyText } : {}), ...(contentType ? { contentType } : {}) }),
    headers,
  );
}

export function withHeaderNames(surfaces: Surface[], headers: readonly string[]): Surface[] {
  let names = '';
  for (let i = 0; i < headers.length; i += 2) names += `${headers[i]!}\n`;
  if (names) surfaces.push({ name: 'header-names', text: names });
  return surfaces;
}
