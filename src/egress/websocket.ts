/**
 * Client→upstream WebSocket frame inspection (docs/decisions/egress-websocket-and-streams.md,
 * docs/decisions/egress-bounded-resources.md). Frames are parsed incrementally: a payload is
 * unmasked and scanned as its bytes arrive, never reassembled, so memory per connection is one
 * read plus the scan windows whatever a frame header declares, and each byte is looked at a
 * bounded number of times (one scan per read of window + new text). Data payloads are scanned
 * with a 4 KiB window carried across frames and messages, control payloads (ping, pong, close
 * reason) with their own window. The original bytes are forwarded unchanged once scanned.
 *
 * Refused (the caller closes both sides): a blocking finding (1008); a frame or message larger
 * than the cap (1009, decided from the header before any payload is read); RSV bits (no extension
 * is ever negotiated: egress strips Sec-WebSocket-Extensions both ways), reserved opcodes, an
 * unmasked client frame, a fragmented or oversized control frame, a continuation with no message
 * or a new message inside one (1002).
 */
const WINDOW = 4096;
const MAX_CONTROL = 125;

/** Returns the refusal for the new text (data, control), or null when it may pass. */
export type FrameScan = (data: string, control: string) => 'dlp_block' | 'canary' | null;

export type WsViolation = 'dlp_block' | 'canary' | 'ws_frame_too_large' | 'ws_protocol_error';

export interface WsPush {
  /** Bytes to forward now (the whole chunk when it passed), or null after a violation. */
  readonly forward: Buffer | null;
  readonly violation: WsViolation | null;
}

export class WsFrameInspector {
  /** Reading a frame header (else a payload). */
  private inHeader = true;
  private readonly hdr = Buffer.alloc(14);
  private hdrLen = 0;
  // Current frame.
  private fin = false;
  private opcode = 0;
  private remaining = 0;
  private readonly mask = Buffer.alloc(4);
  private maskPos = 0;
  private control: Buffer | null = null;
  private controlLen = 0;
  // Current message (data frames).
  private inMessage = false;
  private messageBinary = false;
  private messageBytes = 0;
  private readonly decoder = new TextDecoder('utf-8');
  // Scan windows.
  private dataWindow = '';
  private controlWindow = '';
  private violated: WsViolation | null = null;

  /** `scan` sees window + new text; `maxMessage` caps one frame's payload and one message. */
  constructor(
    private readonly scan: FrameScan,
    private readonly maxMessage: number,
  ) {}

  push(chunk: Buffer): WsPush {
    if (this.violated) return { forward: null, violation: this.violated };
    let data = '';
    let control = '';
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      if (this.inHeader) {
        const need = this.headerNeed();
        const take = Math.min(need - this.hdrLen, n - off);
        chunk.copy(this.hdr, this.hdrLen, off, off + take);
        this.hdrLen += take;
        off += take;
        if (this.hdrLen < this.headerNeed()) continue;
        const v = this.startFrame();
        if (v) return this.fail(v);
        if (this.remaining === 0) {
          const t = this.endFrame();
          data += t.data;
          control += t.control;
        }
        continue;
      }
      const take = Math.min(this.remaining, n - off);
      const payload = Buffer.allocUnsafe(take);
      for (let i = 0; i < take; i++) payload[i] = chunk[off + i]! ^ this.mask[(this.maskPos + i) & 3]!;
      this.maskPos = (this.maskPos + take) & 3;
      off += take;
      this.remaining -= take;
      if (this.control) {
        payload.copy(this.control, this.controlLen);
        this.controlLen += take;
      } else {
        data += this.messageBinary ? payload.toString('latin1') : this.decoder.decode(payload, { stream: true });
      }
      if (this.remaining === 0) {
        const t = this.endFrame();
        data += t.data;
        control += t.control;
      }
    }
    if (data || control) {
      const d = data ? this.dataWindow + data : '';
      const c = control ? this.controlWindow + control : '';
      const v = this.scan(d, c);
      if (v) return this.fail(v);
      if (data) this.dataWindow = d.length > WINDOW ? d.slice(-WINDOW) : d;
      if (control) this.controlWindow = c.length > WINDOW ? c.slice(-WINDOW) : c;
    }
    return { forward: chunk, violation: null };
  }

  private fail(v: WsViolation): WsPush {
    this.violated = v;
    return { forward: null, violation: v };
  }

  /** Bytes of the current header known so far (2, then 4/10 with the length, plus 4 for a mask). */
  private headerNeed(): number {
    if (this.hdrLen < 2) return 2;
    const len7 = this.hdr[1]! & 0x7f;
    const masked = (this.hdr[1]! & 0x80) !== 0;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
  }

  private startFrame(): WsViolation | null {
    const b0 = this.hdr[0]!;
    const b1 = this.hdr[1]!;
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) return 'ws_protocol_error';
    if ((b1 & 0x80) === 0) return 'ws_protocol_error'; // client frames are masked (RFC 6455 §5.1)
    const len7 = b1 & 0x7f;
    let len: number;
    let p = 2;
    if (len7 === 126) {
      len = this.hdr.readUInt16BE(2);
      p = 4;
    } else if (len7 === 127) {
      const hi = this.hdr.readUInt32BE(2);
      if (hi & 0x80000000) return 'ws_protocol_error';
      // Anything past 2^32 is far beyond the cap: refuse from the header alone.
      if (hi !== 0) return 'ws_frame_too_large';
      len = this.hdr.readUInt32BE(6);
      p = 10;
    } else {
      len = len7;
    }
    this.hdr.copy(this.mask, 0, p, p + 4);
    this.maskPos = 0;
    this.hdrLen = 0;
    this.remaining = len;
    const op = this.opcode;
    if (op >= 8) {
      if (op > 10 || !this.fin || len > MAX_CONTROL) return 'ws_protocol_error';
      this.control = Buffer.allocUnsafe(len);
      this.controlLen = 0;
    } else {
      if (op > 2) return 'ws_protocol_error';
      if (op === 0 ? !this.inMessage : this.inMessage) return 'ws_protocol_error';
      if (op !== 0) {
        this.inMessage = true;
        this.messageBinary = op === 2;
        this.messageBytes = 0;
      }
      if (len > this.maxMessage || this.messageBytes + len > this.maxMessage) return 'ws_frame_too_large';
      this.messageBytes += len;
      this.control = null;
    }
    this.inHeader = len === 0;
    return null;
  }

  /** Closes the current frame; returns text it completes (message tail, control payload). */
  private endFrame(): { data: string; control: string } {
    this.inHeader = true;
    if (this.control) {
      const body = this.control.subarray(0, this.controlLen);
      this.control = null;
      // A close payload is a 2-byte status then UTF-8 reason; ping/pong payloads are opaque.
      const text = this.opcode === 8 ? body.subarray(Math.min(2, body.length)).toString('utf8') : body.toString('latin1');
      return { data: '', control: text };
    }
    if (!this.fin) return { data: '', control: '' };
    this.inMessage = false;
    const tail = this.messageBinary ? '' : this.decoder.decode();
    return { data: tail, control: '' };
  }
}

/** Builds a frame (tests and benchmarks): masked with `mask` when given. */
export function encodeFrame(opcode: number, payload: Buffer, opts: { fin?: boolean; rsv?: number; mask?: Buffer } = {}): Buffer {
  const len = payload.length;
  const b0 = ((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode;
  const m = opts.mask ? 0x80 : 0;
  const head = len < 126 ? Buffer.from([b0, m | len]) : len < 65536 ? Buffer.from([b0, m | 126, len >> 8, len & 0xff]) : Buffer.concat([Buffer.from([b0, m | 127]), u64(len)]);
  if (!opts.mask) return Buffer.concat([head, payload]);
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ opts.mask[i & 3]!;
  return Buffer.concat([head, opts.mask, body]);
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(n / 2 ** 32), 0);
  b.writeUInt32BE(n >>> 0, 4);
  return b;
}
