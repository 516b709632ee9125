/**
 * The agent container's seccomp profile (Docker's JSON profile format, `--security-opt
 * seccomp=<file>`), derived from the same rules as the netns backend's BPF filter
 * (src/backends/netns/seccomp-rules.ts). Pure. Why a profile of our own and how each rule maps:
 * docs/decisions/docker-seccomp.md.
 *
 * The profile lists no architecture: the runtime then filters the engine's native ABI and applies
 * its bad-architecture action to every other one (i386 via `int 0x80`, x32), as the BPF filter
 * refuses them. Rules with the same action on one call are alternatives (any match denies); the
 * conditions of one rule must all hold, and each names a different argument. Every comparison is
 * `SCMP_CMP_MASKED_EQ` with a mask inside the low 32 bits, so the upper half of an argument is
 * ignored exactly as by the BPF filter (which loads only the low word); "not one of these values"
 * is written as the masked patterns that cover every other 32-bit value (`complementPatterns`).
 */
import { AGENT_SECCOMP_RULES as R, DENY_ERRNO } from '../netns/seccomp-rules.js';

export interface SeccompArg {
  index: number;
  /** The mask, for SCMP_CMP_MASKED_EQ. */
  value: number;
  /** The value `arg & mask` must equal. */
  valueTwo: number;
  op: 'SCMP_CMP_MASKED_EQ';
}

export interface SeccompSyscallRule {
  names: string[];
  action: 'SCMP_ACT_ERRNO';
  errnoRet: number;
  args?: SeccompArg[];
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ALLOW';
  syscalls: SeccompSyscallRule[];
}

const LOW32 = 0xffffffff;

/** A masked equality on the low 32 bits of argument `index`. */
export interface MaskedEq {
  mask: number;
  value: number;
}

const arg = (index: number, m: MaskedEq): SeccompArg => ({ index, value: m.mask >>> 0, valueTwo: m.value >>> 0, op: 'SCMP_CMP_MASKED_EQ' });
const exactly = (v: number): MaskedEq => ({ mask: LOW32, value: v >>> 0 });

/**
 * Masked patterns whose union is every 32-bit value NOT in `values`: walk the bits from the top;
 * where no listed value continues the prefix, that prefix is a pattern. At most 32 per value.
 */
export function complementPatterns(values: readonly number[], bits = 32): MaskedEq[] {
  const out: MaskedEq[] = [];
  const walk = (bit: number, mask: number, prefix: number, left: readonly number[]): void => {
    if (left.length === 0) {
      out.push({ mask: mask >>> 0, value: prefix >>> 0 });
      return;
    }
    if (bit < 0) return; // the prefix is a listed value
    const b = 2 ** bit;
    for (const set of [0, 1]) {
      walk(bit - 1, mask + b, prefix + set * b, left.filter((v) => Math.floor((v >>> 0) / b) % 2 === set));
    }
  };
  walk(bits - 1, 0, 0, [...new Set(values.map((v) => v >>> 0))]);
  return out;
}

/** One pattern per set bit of `mask`: matches when any of them is set. */
function anyBitPatterns(mask: number): MaskedEq[] {
  const out: MaskedEq[] = [];
  for (let bit = 0; bit < 32; bit++) {
    const b = 2 ** bit;
    if (Math.floor((mask >>> 0) / b) % 2 === 1) out.push({ mask: b, value: b });
  }
  return out;
}

const deny = (name: string, args: SeccompArg[], comment: string): SeccompSyscallRule => ({ names: [name], action: 'SCMP_ACT_ERRNO', errnoRet: DENY_ERRNO, args, comment });

/** The profile: everything allowed except what the rules deny. */
export function agentSeccompProfile(): SeccompProfile {
  const s = R.socket;
  const syscalls: SeccompSyscallRule[] = [
    { names: [...R.denied], action: 'SCMP_ACT_ERRNO', errnoRet: DENY_ERRNO, comment: 'denied outright' },
    { names: [R.enosys.syscall], action: 'SCMP_ACT_ERRNO', errnoRet: R.enosys.errno, comment: 'flags unreadable by seccomp: libc falls back to clone' },
    ...R.ptrace.deny.map((v) => deny('ptrace', [arg(R.ptrace.arg, exactly(v))], 'attaching to a process that is not our tracee')),
    ...anyBitPatterns(R.clone.denyAnyBit).map((m) => deny('clone', [arg(R.clone.arg, m)], 'a CLONE_NEW* flag')),
    ...s.denyDomains.map((d) => deny('socket', [arg(s.domainArg, exactly(d))], 'a denied socket domain')),
    ...complementPatterns(s.netlink.allowProtocols).map((m) =>
      deny('socket', [arg(s.domainArg, exactly(s.netlink.domain)), arg(s.protocolArg, m)], 'netlink other than the allowed protocols'),
    ),
    ...complementPatterns([s.netlink.domain]).map((m) =>
      deny('socket', [arg(s.domainArg, m), arg(s.typeArg, { mask: s.denyTypeElsewhere.mask, value: s.denyTypeElsewhere.type })], 'SOCK_RAW outside netlink'),
    ),
    ...complementPatterns(R.personality.allow).map((m) => deny('personality', [arg(R.personality.arg, m)], 'a personality other than the allowed ones')),
  ];
  return { defaultAction: 'SCMP_ACT_ALLOW', syscalls };
}

/**
 * What the profile answers for one call: the errno of the first matching rule, or null (allowed).
 * The runtime's reading of the profile, for tests that hold it against the BPF filter.
 */
export function profileVerdict(p: SeccompProfile, name: string, args: readonly number[]): number | null {
  for (const r of p.syscalls) {
    if (!r.names.includes(name)) continue;
    const all = (r.args ?? []).every((a) => ((((args[a.index] ?? 0) >>> 0) & a.value) >>> 0) === a.valueTwo);
    if (all) return r.errnoRet;
  }
  return null;
}
