/**
 * A small classic-BPF interpreter over `struct seccomp_data`: the subset of cBPF that
 * src/backends/netns/seccomp.ts emits, executed the way the kernel does. Used by the netns filter's
 * tests and by the docker profile's equivalence test.
 */
import { expect } from 'vitest';

/** Executes an encoded filter; returns the seccomp return value. */
export function runFilter(bytes: Uint8Array, data: { nr: number; arch: number; args?: readonly bigint[] }): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(bytes.byteLength % 8).toBe(0);
  const len = bytes.byteLength / 8;
  expect(len).toBeGreaterThan(0);
  expect(len).toBeLessThanOrEqual(4096);
  const sd = new DataView(new ArrayBuffer(64));
  sd.setUint32(0, data.nr >>> 0, true);
  sd.setUint32(4, data.arch >>> 0, true);
  sd.setBigUint64(8, 0x7f0000001234n, true);
  (data.args ?? []).forEach((a, i) => sd.setBigUint64(16 + 8 * i, BigInt.asUintN(64, a), true));
  let a = 0;
  let pc = 0;
  for (let steps = 0; steps <= len; steps += 1) {
    if (pc >= len) throw new Error(`fell off the program at ${pc}`);
    const code = view.getUint16(pc * 8, true);
    const jt = view.getUint8(pc * 8 + 2);
    const jf = view.getUint8(pc * 8 + 3);
    const k = view.getUint32(pc * 8 + 4, true);
    pc += 1;
    switch (code) {
      case 0x20: // ld [k]
        if (k % 4 !== 0 || k + 4 > 64) throw new Error(`bad load offset ${k}`);
        a = sd.getUint32(k, true);
        break;
      case 0x54: // and #k
        a = (a & k) >>> 0;
        break;
      case 0x05: // ja
        pc += k;
        break;
      case 0x15: // jeq #k
        pc += a === k ? jt : jf;
        break;
      case 0x45: // jset #k
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06: // ret #k
        return k;
      default:
        throw new Error(`unexpected opcode 0x${code.toString(16)} at ${pc - 1}`);
    }
  }
  throw new Error('no return');
}
