/**
 * The docker agent container's seccomp profile (src/backends/docker/seccomp-profile.ts) against
 * the netns BPF filter both derive from (seccomp-rules.ts): for every filtered or denied call and a
 * spread of argument values (each rule's edge values, upper-half bits, seeded random words), the
 * profile, read the way the runtime reads it, answers what the BPF program answers. Pure. The
 * kernel-side check is the escape suite's SC row on `--backend docker`.
 */
import { describe, expect, it } from 'vitest';
import { agentSeccompProfile, complementPatterns, profileVerdict } from '../../src/backends/docker/seccomp-profile.js';
import { encodeFilter, RET, seccompProgram } from '../../src/backends/netns/seccomp.js';
import { DENIED, FILTERED, type SyscallName } from '../../src/backends/netns/seccomp-rules.js';
import { ARCH_TABLES } from '../../src/backends/netns/seccomp-syscalls.js';
import { runFilter } from '../helpers/cbpf.js';

/** A deterministic word generator (xorshift32), so a failure replays. */
function words(seed: number, n: number): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.push(x);
  }
  return out;
}

const EDGES = [
  0, 1, 2, 3, 9, 15, 16, 17, 0x80, 0x803, 0x4206, 16 | 0x800, 3 | 0x80000, 0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
  0x20000000, 0x40000000, 0x80000000, 0x7fffffff, 0xfffffffe, 0xffffffff, 0x00400000, 0x0008, 0x0100,
];

describe('docker agent seccomp profile', () => {
  const profile = agentSeccompProfile();
  const t = ARCH_TABLES.x86_64;
  const bpf = encodeFilter(seccompProgram('x86_64'));
  const bpfVerdict = (name: SyscallName, args: readonly bigint[]): number | null => {
    const r = runFilter(bpf, { nr: t.nr[name]!, arch: t.auditArch, args });
    if (r === RET.ALLOW) return null;
    expect(r & 0xffff0000).toBe(RET.ERRNO);
    return r & 0xffff;
  };

  it('allows by default, names no architecture (the runtime refuses foreign ABIs), errno actions only', () => {
    expect(profile.defaultAction).toBe('SCMP_ACT_ALLOW');
    expect(Object.keys(profile)).toEqual(['defaultAction', 'syscalls']);
    for (const r of profile.syscalls) {
      expect(r.action).toBe('SCMP_ACT_ERRNO');
      const idx = (r.args ?? []).map((a) => a.index);
      expect(new Set(idx).size, 'one comparison per argument in a rule').toBe(idx.length);
      for (const a of r.args ?? []) expect(a.value).toBeLessThanOrEqual(0xffffffff);
    }
    expect(profile.syscalls.length).toBeLessThan(200);
  });

  it('every call the BPF filter names answers the same for edge, upper-half and random arguments', () => {
    const rnd = words(0x5eccc0de, 400);
    const singles: bigint[] = [...EDGES, ...rnd].map((v) => BigInt(v));
    // The upper half of an argument is ignored by both (the kernel reads these as 32-bit).
    const high = [...EDGES.map((v) => BigInt(v) | 0x1_0000_0000n), BigInt(0x4206) | 0xffff_ffff_0000_0000n];
    let compared = 0;
    for (const name of [...DENIED, ...FILTERED] as SyscallName[]) {
      if (t.nr[name] === null) continue;
      const vectors: bigint[][] = [];
      for (const v of [...singles, ...high]) vectors.push([v, 0n, 0n]);
      if (name === 'socket') {
        const domains = [0, 1, 2, 10, 16, 17, 40, ...rnd.slice(0, 20)].map((v) => BigInt(v));
        const types = [1, 2, 3, 5, 3 | 0x800, 3 | 0x80000, 1 | 0x800, 0xf3, ...rnd.slice(20, 30)].map((v) => BigInt(v));
        const protos = [0, 1, 9, 15, 0xffffffff, ...rnd.slice(30, 40)].map((v) => BigInt(v));
        for (const d of [...domains, 16n | 0x1_0000_0000n]) for (const ty of types) for (const p of [...protos, 0x1_0000_0000n]) vectors.push([d, ty, p]);
      }
      for (const args of vectors) {
        const want = bpfVerdict(name, args);
        const got = profileVerdict(profile, name, args.map((a) => Number(BigInt.asUintN(32, a))));
        if (got !== want) expect({ name, args: args.map((a) => `0x${a.toString(16)}`), got }).toEqual({ name, args: args.map((a) => `0x${a.toString(16)}`), got: want });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  it('the rules the escape suite checks: NETLINK_AUDIT and AF_PACKET refused, routing netlink and inet sockets allowed', () => {
    expect(profileVerdict(profile, 'socket', [16, 3, 9])).toBe(1);
    expect(profileVerdict(profile, 'socket', [17, 3, 0])).toBe(1);
    expect(profileVerdict(profile, 'socket', [2, 3, 1])).toBe(1); // raw ICMP
    expect(profileVerdict(profile, 'socket', [16, 3, 0])).toBeNull();
    expect(profileVerdict(profile, 'socket', [2, 1 | 0x80000, 0])).toBeNull();
    expect(profileVerdict(profile, 'clone3', [])).toBe(38);
    expect(profileVerdict(profile, 'keyctl', [])).toBe(1);
    expect(profileVerdict(profile, 'read', [])).toBeNull();
  });

  it('complementPatterns covers exactly the values not listed', () => {
    const covers = (ps: ReturnType<typeof complementPatterns>, v: number) => ps.some((p) => (((v & p.mask) >>> 0) === p.value));
    for (const set of [[0], [16], [0, 0xffffffff], [3, 9, 0x4206], []]) {
      const ps = complementPatterns(set);
      expect(ps.length).toBeLessThanOrEqual(Math.max(1, 32 * set.length));
      for (const v of [...EDGES, ...words(set.length + 7, 300), ...set]) expect(covers(ps, v), `0x${v.toString(16)} in [${set.join(',')}]`).toBe(!set.includes(v >>> 0));
    }
    expect(complementPatterns([])).toEqual([{ mask: 0, value: 0 }]);
  });
});
