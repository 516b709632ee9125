/**
 * Inbound prompt-injection handling of one response (docs/decisions/egress-inbound-block.md): the
 * DLP scores the text (src/dlp/inbound.ts); egress acts on its block flag. A buffered response that
 * blocks is replaced by 403 `inbound_injection`; a streamed one is scanned chunk by chunk, each chunk
 * scanned BEFORE it is relayed, and cut at the first chunk that reaches the block level.
 */
import zlib from 'node:zlib';
import { InboundStreamScanner } from '../dlp/inbound.js';
import type { InboundResult } from '../dlp/types.js';

/** What the route's inbound detector is called in audit records (docs/configuration.md). */
const DETECTOR = 'naive_injection_detection';

/** True when the DLP's verdict is the block level (older results carry only `level`). */
export function inboundBlocks(r: InboundResult): boolean {
  return r.block ?? r.level === 'high';
}

/** Stable rule ids of a result, strongest first, without repeats. */
export function inboundRuleIds(r: InboundResult): string[] {
  const hits = [...(r.hits ?? [])].sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0));
  return [...new Set(hits.map((h) => h.id))];
}

/** Value-free audit entries, one per rule id (never the matched text: it is the attacker's). */
export function inboundAuditEntries(r: InboundResult, action: 'block' | 'warn'): Array<Record<string, unknown>> {
  return inboundRuleIds(r).map((rule) => ({ detector: DETECTOR, rule, surface: 'response', action, score: r.score ?? null }));
}

/** Short, value-free detail for the refusal body and the log: the rule ids and the score. */
export function inboundDetail(r: InboundResult): string {
  const ids = inboundRuleIds(r);
  return `rules: ${ids.length ? ids.join(', ') : 'unknown'}${r.score !== undefined ? `; score ${r.score}` : ''}`;
}

/**
 * The last event of a cut `text/event-stream` (identity-encoded only): tells the agent's client why
 * the stream ends before the connection is closed. Carries the `egress:` marker like every refusal.
 */
export function sseDenyEvent(detail: string): Buffer {
  return Buffer.from(`\n\nevent: error\ndata: egress: denied (inbound_injection): the rest of this stream looked like a prompt-injection attempt and was withheld (${detail}).\n\n`, 'utf8');
}

export type InspectState = 'ok' | 'block' | 'unscannable';

/**
 * Incremental scan of a streamed response, decompressing gzip/deflate/br. `push` resolves once
 * the chunk's text (after decompression) has been scanned, so the relay forwards a chunk only
 * after it is known not to reach the block level.
 */
export class StreamInspector {
  private readonly scan = new InboundStreamScanner();
  private readonly decoder = new TextDecoder('utf-8');
  private readonly z: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null;
  private state: InspectState = 'ok';
  private last: InboundResult | null = null;

  constructor(encoding: string | string[] | undefined) {
    const enc = (typeof encoding === 'string' ? encoding : '').trim().toLowerCase();
    this.z = enc === 'gzip' || enc === 'x-gzip' ? zlib.createGunzip() : enc === 'deflate' ? zlib.createInflate() : enc === 'br' ? zlib.createBrotliDecompress() : null;
    if (this.z) {
      this.z.on('data', (c: Buffer) => this.text(this.decoder.decode(c, { stream: true })));
      // Bytes egress cannot decompress cannot be scanned: fail closed (the agent's client could
      // still decode a prefix of them).
      this.z.on('error', () => {
        if (this.state === 'ok') this.state = 'unscannable';
      });
    } else if (enc !== '' && enc !== 'identity') {
      this.state = 'unscannable';
    }
  }

  /** The result that blocked (or the latest), for the audit. */
  get result(): InboundResult | null {
    return this.last;
  }

  get verdict(): InspectState {
    return this.state;
  }

  push(chunk: Buffer): Promise<InspectState> {
    if (this.state !== 'ok') return Promise.resolve(this.state);
    const z = this.z;
    if (!z) {
      this.text(this.decoder.decode(chunk, { stream: true }));
      return Promise.resolve(this.state);
    }
    // The write callback runs once zlib has consumed the chunk; its output has been emitted by
    // then or is on the next tick, hence the setImmediate.
    return new Promise((resolve) => z.write(chunk, () => setImmediate(() => resolve(this.state))));
  }

  /** Flushes the decompressor and the text decoder; resolves with the final state. */
  end(): Promise<InspectState> {
    const z = this.z;
    const flushText = () => {
      this.text(this.decoder.decode());
      return this.state;
    };
    if (!z || this.state !== 'ok') return Promise.resolve(this.state === 'ok' ? flushText() : this.state);
    return new Promise((resolve) => {
      let done = false;
      const fin = () => {
        if (done) return;
        done = true;
        setImmediate(() => resolve(flushText()));
      };
      z.once('end', fin);
      z.once('error', fin);
      z.end();
      // A stream that never produced output still ends; 'end' needs the readable side drained.
      z.resume();
    });
  }

  private text(s: string): void {
    if (this.state !== 'ok' || !s) return;
    const r = this.scan.push(s);
    this.last = r;
    if (inboundBlocks(r)) this.state = 'block';
  }
}
