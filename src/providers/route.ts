/** Small constructors so provider routes are complete manifest routes (Route) from the start. */
import type { AuthScheme } from '../manifest/types.js';
import type { ProviderRoute } from './types.js';

/** A default route the bottle may replace: TLS passthrough, no auth, no DLP. */
export function weakPassthroughRoute(host: string): ProviderRoute {
  return { host, tlsPassthrough: true, git: { fetch: true }, dlp: {}, allowPrivateCidrs: [], weak: true };
}

/** A default plain (intercepted, unauthenticated) route the bottle may replace. */
export function weakRoute(host: string, port?: number): ProviderRoute {
  return {
    host,
    ...(port === undefined ? {} : { port }),
    tlsPassthrough: false,
    git: { fetch: true },
    dlp: {},
    allowPrivateCidrs: [],
    weak: true,
  };
}

/** An authenticated provider route: claims its host, redacts on DLP findings. */
export function authRoute(host: string, scheme: AuthScheme, tokenRef: string, port?: number): ProviderRoute {
  return {
    host,
    ...(port === undefined ? {} : { port }),
    auth: { scheme, tokenRef },
    tlsPassthrough: false,
    git: { fetch: true },
    dlp: { outboundOnMatch: 'redact' },
    allowPrivateCidrs: [],
  };
}
