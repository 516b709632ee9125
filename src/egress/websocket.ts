/**
 * Client→upstream WebSocket frame inspection (docs/decisions/egress-websocket-and-streams.md):
 * frames are parsed, payloads unmasked and scanned with a window across frames, and the original
 * bytes forwarded unchanged. A finding closes both sides with 1008 (policy violation).
 */
const WINDOW = 4096;

export type FrameScan = (text: string) => boolean;

export class WsFrameInspector {
  private buf: Buffer = Buffer.alloc(0);
  private window = '';
  private violated = false;

  /** `scan` returns true when the text holds a blocking finding. */
  constructor(private readonly scan: FrameScan) {}

  /** Returns bytes safe to forward now, or null after a violation (caller closes with 1008). */
  push(chunk: Buffer): Buffer | null {
    if (this.violated) return null;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let off = 0;
    const outEnd = { n: 0 };
    for (;;) {
      const f = parseFrame(this.buf, off);
      if (!f) break;
      const opcode = f.opcode;
      if (opcode === 0 || opcode === 1 || opcode === 2) {
        const payload = Buffer.from(this.buf.subarray(f.payloadStart, f.end));
        if (f.mask) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ f.mask[i & 3]!;
        const text = payload.toString(opcode === 2 ? 'latin1' : 'utf8');
        const joined = this.window + text;
        if (this.scan(joined)) {
          this.violated = true;
          return null;
        }
        this.window = joined.slice(-WINDOW);
      }
      off = f.end;
      outEnd.n = off;
    }
    const out = this.buf.subarray(0, outEnd.n);
    this.buf = this.buf.subarray(outEnd.n);
    return out;
  }
}

interface Frame {
  opcode: number;
  mask: Buffer | null;
  payloadStart: number;
  end: number;
}

function parseFrame(b: Buffer, off: number): Frame | null {
  if (b.length - off < 2) return null;
  const b1 = b[off + 1]!;
  const opcode = b[off]! & 0x0f;
  let len = b1 & 0x7f;
  let p = off + 2;
  if (len === 126) {
    if (b.length - p < 2) return null;
    len = b.readUInt16BE(p);
    p += 2;
  } else if (len === 127) {
    if (b.length - p < 8) return null;
    const big = b.readBigUInt64BE(p);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    len = Number(big);
    p += 8;
  }
  let mask: Buffer | null = null;
  if (b1 & 0x80) {
    if (b.length - p < 4) return null;
    mask = b.subarray(p, p + 4);
    p += 4;
  }
  if (b.length - p < len) return null;
  return { opcode, mask, payloadStart: p, end: p + len };
}

/** Server→client close frame (unmasked) with status 1008. */
export const CLOSE_1008_TO_CLIENT = Buffer.from([0x88, 0x02, 0x03, 0xf0]);

/** Client→server close frame (masked, zero mask key keeps the payload readable) with 1008. */
export const CLOSE_1008_TO_UPSTREAM = Buffer.from([0x88, 0x82, 0x00, 0x00, 0x00, 0x00, 0x03, 0xf0]);
