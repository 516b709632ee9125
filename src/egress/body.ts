/**
 * Agent request bodies under hostile input (docs/decisions/egress-bounded-resources.md): every
 * read settles (never rejects) on end, abort, idle timeout or an exhausted buffer budget; streamed
 * bodies respect backpressure and the idle bound; drained bodies are bounded too. The budget is one
 * object per egress process (= per bottle) shared by every connection: bytes held in memory for
 * scanning are taken from it and given back when the request ends; a request that cannot take
 * what it needs is refused, never queued.
 */
import type http from 'node:http';
import type { Writable } from 'node:stream';
import type { Framing } from './normalize.js';

/** Framing of a request without a body (before admission fills in the real one). */
export const NO_BODY: Framing = { kind: 'none' };

/** True when the agent's framing announces body bytes. */
export function hasBody(f: Framing): boolean {
  return f.kind === 'chunked' || (f.kind === 'length' && f.length > 0);
}

/** The per-bottle cap on bytes egress buffers across all connections. */
export class BufferBudget {
  private used = 0;
  private high = 0;

  constructor(readonly cap: number) {}

  /** Bytes currently held. */
  get inUse(): number {
    return this.used;
  }

  /** Highest `inUse` seen (tests, diagnostics). */
  get peak(): number {
    return this.high;
  }

  lease(): BudgetLease {
    return new BudgetLease(this);
  }

  /** @internal BudgetLease only. */
  take(n: number): boolean {
    if (this.used + n > this.cap) return false;
    this.used += n;
    if (this.used > this.high) this.high = this.used;
    return true;
  }

  /** @internal BudgetLease only. */
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/** What one request holds of the budget; `release` is idempotent. */
export class BudgetLease {
  private held = 0;

  constructor(private readonly budget: BufferBudget) {}

  take(n: number): boolean {
    if (n <= 0) return true;
    if (!this.budget.take(n)) return false;
    this.held += n;
    return true;
  }

  release(): void {
    if (this.held === 0) return;
    this.budget.give(this.held);
    this.held = 0;
  }
}

export type BodyRead =
  | { readonly kind: 'ok'; readonly body: Buffer }
  /** More than `max` bytes: `body` holds what was read; the request is paused. */
  | { readonly kind: 'over'; readonly body: Buffer }
  | { readonly kind: 'budget' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'timeout' };

/** The declared Content-Length, or null (chunked / absent / unparsable). */
export function declaredLength(req: http.IncomingMessage): number | null {
  const cl = req.headers['content-length'];
  if (cl === undefined || !/^\d{1,15}$/.test(cl)) return null;
  return Number(cl);
}

/**
 * Buffers a request body for scanning. Settles once: `ok`, `over` (more than `max`), `budget`
 * (the shared cap is exhausted: nothing more is read), `aborted` (the client went away) or
 * `timeout` (no byte for `idleMs`). With a declared length the buffer is allocated once and the
 * budget taken up front, so an oversized claim is refused before a byte is read.
 */
export function readBody(req: http.IncomingMessage, max: number, idleMs: number, lease: BudgetLease): Promise<BodyRead> {
  return new Promise((resolve) => {
    const declared = declaredLength(req);
    let reserved = declared === null ? 0 : Math.min(declared, max);
    if (!lease.take(reserved)) return resolve({ kind: 'budget' });
    // A declared length the parser enforces: one allocation, no concat copy at the end.
    const whole = declared !== null && declared <= max ? Buffer.allocUnsafe(declared) : null;
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const settle = (r: BodyRead) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onError);
      if (r.kind !== 'ok') req.pause();
      resolve(r);
    };
    const assembled = (): Buffer => (whole ? whole.subarray(0, size) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onData = (c: Buffer) => {
      timer.refresh();
      if (whole && size + c.length <= whole.length) c.copy(whole, size);
      else chunks.push(c);
      size += c.length;
      if (size > reserved) {
        if (!lease.take(size - reserved)) return settle({ kind: 'budget' });
        reserved = size;
      }
      if (size > max) settle({ kind: 'over', body: Buffer.concat(chunks, size) });
    };
    const onEnd = () => settle({ kind: 'ok', body: assembled() });
    const onClose = () => {
      if (!req.complete) settle({ kind: 'aborted' });
    };
    const onError = () => settle({ kind: 'aborted' });
    const timer = setTimeout(() => settle({ kind: 'timeout' }), idleMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onError);
  });
}

export interface PumpHooks {
  /** Sees every chunk before it is written; false stops the pump (the caller aborts). */
  onChunk?(chunk: Buffer): boolean;
  /** No byte from the client for `idleMs` while egress was ready to take one. */
  onIdle(): void;
  /** The client went away before the body ended. */
  onAbort(): void;
}

/**
 * Streams the rest of a request body to `dest` with backpressure (the client is paused while the
 * upstream is slow, so nothing queues in egress) and the idle bound (time spent paused by egress
 * does not count against the client). Ends `dest` when the body ends.
 */
export function pumpBody(req: http.IncomingMessage, dest: Writable, idleMs: number, hooks: PumpHooks): void {
  let waiting = false;
  let stopped = false;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onClose);
    dest.off('drain', onDrain);
    dest.off('close', onDestClose);
  };
  const onData = (c: Buffer) => {
    timer.refresh();
    if (hooks.onChunk && !hooks.onChunk(c)) {
      stop();
      req.pause();
      return;
    }
    if (!dest.write(c) && !waiting) {
      waiting = true;
      req.pause();
      dest.once('drain', onDrain);
    }
  };
  const onDrain = () => {
    waiting = false;
    if (stopped) return;
    timer.refresh();
    req.resume();
  };
  const onEnd = () => {
    stop();
    dest.end();
  };
  const onClose = () => {
    if (req.complete) return;
    stop();
    hooks.onAbort();
  };
  const onDestClose = () => {
    // The upstream side is gone (error, timeout, DLP abort): stop reading; the relay answers.
    stop();
  };
  const timer = setTimeout(function idle() {
    if (stopped) return;
    if (waiting) return void timer.refresh();
    stop();
    hooks.onIdle();
  }, idleMs);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', onClose);
  req.on('error', () => {});
  dest.on('close', onDestClose);
  req.resume();
}

/** Bytes egress reads and discards from a refused request before it closes the connection instead. */
export const DRAIN_LIMIT = 1024 * 1024;

/**
 * Discards the rest of a refused request's body so the connection can be reused, within bounds: more
 * than DRAIN_LIMIT bytes, or no byte for `idleMs`, and the connection is closed.
 */
export function drainBody(req: http.IncomingMessage, idleMs: number): void {
  if (req.complete || req.readableEnded) {
    req.resume();
    return;
  }
  let drained = 0;
  const timer = setTimeout(() => req.socket?.destroy(), idleMs);
  const onData = (c: Buffer) => {
    drained += c.length;
    if (drained > DRAIN_LIMIT) {
      clearTimeout(timer);
      req.off('data', onData);
      req.socket?.destroy();
      return;
    }
    timer.refresh();
  };
  req.on('data', onData);
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.on('error', () => {});
  req.resume();
}
