/**
 * The agent sandbox's seccomp filter as a classic-BPF program that bwrap loads with `--seccomp FD`
 * (docs/decisions/netns-seccomp.md). Pure: no library, the program is assembled here.
 *
 * Layout: check the ABI (another architecture is killed; x86_64's x32 calls get EPERM), load the
 * syscall number, deny the unconditional list, jump to the argument checks of ptrace, clone,
 * socket and personality, answer clone3 with ENOSYS (its flags are in memory seccomp cannot read;
 * libc then falls back to clone, which is checked), allow everything else.
 */
import { BottleError } from '../../errors.js';
import { AGENT_SECCOMP_RULES as R, DENY_ERRNO } from './seccomp-rules.js';
import { ARCH_TABLES, NODE_ARCH, type SeccompArch } from './seccomp-syscalls.js';

/** One `struct sock_filter`. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// BPF opcodes (linux/bpf_common.h) and seccomp return actions (linux/seccomp.h).
export const BPF = {
  LD_W_ABS: 0x20,
  ALU_AND_K: 0x54,
  JMP_JA: 0x05,
  JMP_JEQ_K: 0x15,
  JMP_JSET_K: 0x45,
  RET_K: 0x06,
} as const;
export const RET = {
  KILL_PROCESS: 0x80000000,
  ERRNO: 0x00050000,
  ALLOW: 0x7fff0000,
} as const;

/** Offsets into `struct seccomp_data`; args are u64, low 32 bits first on these little-endian ABIs. */
export const DATA = { nr: 0, arch: 4, argLow: (i: number) => 16 + 8 * i } as const;

type Target = string | 'next';
type Op =
  | { kind: 'label'; name: string }
  | { kind: 'ld'; offset: number }
  | { kind: 'and'; k: number }
  | { kind: 'ret'; k: number }
  | { kind: 'ja'; to: string }
  | { kind: 'jeq' | 'jset'; k: number; jt: Target; jf: Target };

/** Resolves labels to the forward-only 8-bit offsets cBPF jumps take. */
function assemble(ops: readonly Op[]): SockFilter[] {
  const at = new Map<string, number>();
  let pc = 0;
  for (const op of ops) {
    if (op.kind === 'label') at.set(op.name, pc);
    else pc += 1;
  }
  const out: SockFilter[] = [];
  const offset = (from: number, to: Target, limit: number): number => {
    if (to === 'next') return 0;
    const dest = at.get(to);
    if (dest === undefined) throw new Error(`seccomp: unknown label ${to}`);
    const d = dest - from - 1;
    if (d < 0 || d > limit) throw new Error(`seccomp: jump to ${to} out of range (${d})`);
    return d;
  };
  for (const op of ops) {
    const here = out.length;
    switch (op.kind) {
      case 'label':
        break;
      case 'ld':
        out.push({ code: BPF.LD_W_ABS, jt: 0, jf: 0, k: op.offset });
        break;
      case 'and':
        out.push({ code: BPF.ALU_AND_K, jt: 0, jf: 0, k: op.k >>> 0 });
        break;
      case 'ret':
        out.push({ code: BPF.RET_K, jt: 0, jf: 0, k: op.k >>> 0 });
        break;
      case 'ja':
        out.push({ code: BPF.JMP_JA, jt: 0, jf: 0, k: offset(here, op.to, 0xffffffff) });
        break;
      case 'jeq':
      case 'jset':
        out.push({ code: op.kind === 'jeq' ? BPF.JMP_JEQ_K : BPF.JMP_JSET_K, jt: offset(here, op.jt, 255), jf: offset(here, op.jf, 255), k: op.k >>> 0 });
        break;
    }
  }
  return out;
}

/**
 * The filter for one architecture, as instructions, from the rules of seccomp-rules.ts (the same
 * rules the docker backend's profile is made of). Each value list becomes a chain of `jeq`s.
 */
export function seccompProgram(arch: SeccompArch): SockFilter[] {
  const t = ARCH_TABLES[arch];
  const nr = (name: keyof typeof t.nr): number | null => t.nr[name];
  /** `jeq` each value in turn: a match goes to `hit`, the last miss to `miss`. */
  const anyOf = (values: readonly number[], hit: Target, miss: Target): Op[] =>
    values.map((k, i) => ({ kind: 'jeq' as const, k, jt: hit, jf: i === values.length - 1 ? miss : 'next' }));
  const sock = R.socket;
  const ops: Op[] = [
    { kind: 'ld', offset: DATA.arch },
    { kind: 'jeq', k: t.auditArch, jt: 'next', jf: R.foreignAbi },
    { kind: 'ld', offset: DATA.nr },
  ];
  if (t.x32Bit !== null) ops.push({ kind: 'jset', k: t.x32Bit, jt: R.x32, jf: 'next' });
  for (const name of R.denied) {
    const n = nr(name);
    if (n !== null) ops.push({ kind: 'jeq', k: n, jt: 'deny', jf: 'next' });
  }
  ops.push(
    { kind: 'jeq', k: nr(R.enosys.syscall)!, jt: 'enosys', jf: 'next' },
    { kind: 'jeq', k: nr('ptrace')!, jt: 'ptrace', jf: 'next' },
    { kind: 'jeq', k: nr('clone')!, jt: 'clone', jf: 'next' },
    { kind: 'jeq', k: nr('socket')!, jt: 'socket', jf: 'next' },
    { kind: 'jeq', k: nr('personality')!, jt: 'personality', jf: 'allow' },
    { kind: 'label', name: 'ptrace' },
    { kind: 'ld', offset: DATA.argLow(R.ptrace.arg) },
    ...anyOf(R.ptrace.deny, 'deny', 'allow'),
    // clone's flags: the kernel reads only their low 32 bits.
    { kind: 'label', name: 'clone' },
    { kind: 'ld', offset: DATA.argLow(R.clone.arg) },
    { kind: 'jset', k: R.clone.denyAnyBit, jt: 'deny', jf: 'allow' },
    // socket(domain, type, protocol)
    { kind: 'label', name: 'socket' },
    { kind: 'ld', offset: DATA.argLow(sock.domainArg) },
    ...anyOf(sock.denyDomains, 'deny', 'next'),
    { kind: 'jeq', k: sock.netlink.domain, jt: 'next', jf: 'socket-type' },
    { kind: 'ld', offset: DATA.argLow(sock.protocolArg) },
    ...anyOf(sock.netlink.allowProtocols, 'allow', 'deny'),
    { kind: 'label', name: 'socket-type' },
    { kind: 'ld', offset: DATA.argLow(sock.typeArg) },
    { kind: 'and', k: sock.denyTypeElsewhere.mask },
    { kind: 'jeq', k: sock.denyTypeElsewhere.type, jt: 'deny', jf: 'allow' },
    { kind: 'label', name: 'personality' },
    { kind: 'ld', offset: DATA.argLow(R.personality.arg) },
    ...anyOf(R.personality.allow, 'allow', 'deny'),
    { kind: 'label', name: 'allow' },
    { kind: 'ret', k: RET.ALLOW },
    { kind: 'label', name: 'deny' },
    { kind: 'ret', k: RET.ERRNO | DENY_ERRNO },
    { kind: 'label', name: 'enosys' },
    { kind: 'ret', k: RET.ERRNO | R.enosys.errno },
    { kind: 'label', name: 'kill' },
    { kind: 'ret', k: RET.KILL_PROCESS },
  );
  return assemble(ops);
}

/** `struct sock_filter[]` as bwrap reads it: u16 code, u8 jt, u8 jf, u32 k, little-endian. */
export function encodeFilter(prog: readonly SockFilter[]): Uint8Array {
  const bytes = new Uint8Array(prog.length * 8);
  const view = new DataView(bytes.buffer);
  prog.forEach((ins, i) => {
    view.setUint16(i * 8, ins.code, true);
    view.setUint8(i * 8 + 2, ins.jt);
    view.setUint8(i * 8 + 3, ins.jf);
    view.setUint32(i * 8 + 4, ins.k >>> 0, true);
  });
  return bytes;
}

/** The architecture to filter for, from Node's `process.arch`; any other host fails closed. */
export function seccompArch(nodeArch: string): SeccompArch {
  const arch = Object.hasOwn(NODE_ARCH, nodeArch) ? NODE_ARCH[nodeArch] : undefined;
  if (arch === undefined) {
    throw new BottleError('BACKEND_UNAVAILABLE', `netns has no seccomp filter for host architecture "${nodeArch}" (supported: x64, arm64); refusing to start an unfiltered sandbox`);
  }
  return arch;
}

/** The encoded filter for this host (`process.arch`); throws on an architecture without a table. */
export function seccompFilterFor(nodeArch: string): Uint8Array {
  return encodeFilter(seccompProgram(seccompArch(nodeArch)));
}
