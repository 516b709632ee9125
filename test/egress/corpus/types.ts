/**
 * The egress corpus record format: plain data, so bench code (or any other replayer) can send the
 * same bytes. A case is one HTTP request (or a short sequence), one WebSocket session, or one
 * request whose stand-in response is the payload (inbound prompt injection).
 */

export type CorpusSurface = 'path' | 'query' | 'header' | 'body' | 'host' | 'ws-frame' | 'response';

/** A body: text (sent as UTF-8) or raw bytes in base64. */
export type BodySpec = string | { readonly base64: string };

export interface RequestSpec {
  /**
   * `tunnel` (default): CONNECT host:port, TLS to the proxy's leaf, then the raw request.
   * `absolute`: plain-HTTP absolute-form request to the proxy. `connect`: the CONNECT alone (the
   * attack is the tunnel being opened).
   */
  readonly mode?: 'tunnel' | 'absolute' | 'connect';
  readonly method: string;
  /**
   * `https://host[:port]/raw-target` — never parsed with WHATWG URL (the target is sent byte for
   * byte). Without a port the runner uses the stand-in's port for that host.
   */
  readonly url: string;
  /** Request target to send instead of the URL's path (e.g. absolute-form inside a tunnel). */
  readonly target?: string;
  /** Sent in this order, duplicates kept. A `host` entry here replaces the automatic one. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: BodySpec;
  /** Send the body with `Transfer-Encoding: chunked` in chunks of this size (and these trailers). */
  readonly chunked?: { readonly size: number; readonly trailers?: ReadonlyArray<readonly [string, string]> };
  /** Don't add `Content-Length` (the case sets its own framing headers). */
  readonly rawFraming?: boolean;
}

export interface WsFrameSpec {
  readonly opcode: number;
  readonly payload: BodySpec;
  readonly fin?: boolean;
  /** Set RSV1 and send the payload raw-deflated (permessage-deflate that was never negotiated). */
  readonly deflate?: boolean;
}

export interface WsSpec {
  /** `https://ws.corpus.test/path` */
  readonly url: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly frames: readonly WsFrameSpec[];
}

export interface ResponseSpec {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: BodySpec;
}

export interface CorpusCase {
  /** Stable id, e.g. `dlp-b64-layered-03`. */
  readonly id: string;
  readonly class: string;
  readonly surface: CorpusSurface;
  readonly description: string;
  readonly expect: 'blocked' | 'allowed';
  /** One request … */
  readonly request?: RequestSpec;
  /** … or several, in order, each on its own connection (pieces across requests, many subdomains). */
  readonly steps?: readonly RequestSpec[];
  /** A WebSocket session (the attack is in the frames). */
  readonly ws?: WsSpec;
  /** What the stand-in answers to this case's request (inbound cases). */
  readonly response?: ResponseSpec;
  /**
   * Attack judgement for sequences: `all-steps` — the exfiltration only succeeds when every step
   * got through (each carries one piece); `any-step` (default) — any step that got through leaked.
   */
  readonly leakRule?: 'any-step' | 'all-steps';
  /**
   * Strings whose arrival at the stand-in means the attack worked even without this case's tag
   * (a smuggled second request, a push accepted by the path-decoding git server). For `ws` cases:
   * the payload pieces that must ALL arrive for the exfiltration to have worked. For `response`
   * cases: text that must not reach the agent.
   */
  readonly markers?: readonly string[];
  /**
   * `deny` (default): stopped when the proxy refuses (4xx with the `egress:` marker, or closes)
   * and nothing of the case reached the stand-in. `no-leak`: stopped when none of `markers` reached
   * the stand-in (the proxy may drop the carrier and forward the rest, e.g. a trailer).
   * `smuggle`: request smuggling — stopped when the stand-in never parsed a SECOND request whose
   * target is one of `markers` (the smuggled request line). The carrier itself may be refused or
   * forwarded as one properly framed request: its body reaching the origin as a body is no leak.
   */
  readonly judge?: 'deny' | 'no-leak' | 'smuggle';
  /** The per-case known secret (given to the proxy as an `EGRESS_TOKEN_*` slot value). */
  readonly knownSecret?: string;
  /** Replay on the proxy configured to stream oversized bodies (`dlpOversize: stream`). */
  /**
   * `isolated`: replay on an egress of its own (same routes and options as the default), for cases
   * whose point is per-bottle state (the DNS-exfil window of unique random subdomains): that state
   * must not shape the cases replayed after it, benign ones included.
   */
  readonly proxy?: 'default' | 'stream' | 'isolated';
}

export interface CorpusThresholds {
  /** Fraction of attack cases that must be stopped. */
  readonly minAttackBlockRate: number;
  /** Fraction of benign cases that may be refused or altered. */
  readonly maxBenignFalsePositiveRate: number;
}
