/** Host names the corpus targets; the runner routes each to a loopback stand-in. */

/** Main route: Bearer credential injected, egress's default DLP (no `dlp` key), inbound scanning. */
export const API = 'api.corpus.test';
/** Route with `matches: prefix /v1/allowed` (path-normalisation differentials). */
export const PATHS = 'paths.corpus.test';
/** Basic-auth git route in front of a path-DECODING git stand-in (accepts `git%2Dreceive-pack`). */
export const GIT = 'git.corpus.test';
/** Wildcard route `*.wild.corpus.test` (data in host-name labels). */
export const WILD = 'wild.corpus.test';
/** WebSocket stand-in. */
export const WS = 'ws.corpus.test';
/** Route without a port (CONNECT must mean 443, absolute-form http:// must mean 80). */
export const NOPORT = 'noport.corpus.test';
/** Control route with DLP off (outbound and inbound): the runner's own check that leaks are seen. */
export const OPEN = 'open.corpus.test';
/** A host no route names (used as the forbidden second `Host`). */
export const INTERNAL = 'internal.corpus.test';

/** The `user:password` the git route injects as Basic (fake). */
export const GIT_USERPASS = 'corpus-bot:gitpass-Q7vL2xN9kM4pR8sT';
