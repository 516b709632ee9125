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
import {
  AF_NETLINK, AF_PACKET, ARCH_TABLES, CLONE_NEW_MASK, DENIED, ENOSYS, EPERM, NETLINK_ROUTE, NODE_ARCH, PER_LINUX, PERSONALITY_QUERY,
  PTRACE_ATTACH, PTRACE_SEIZE, SOCK_RAW, SOCK_TYPE_MASK, type SeccompArch,
} from './seccomp-syscalls.js';

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

/** The filter for one architecture, as instructions. */
export function seccompProgram(arch: SeccompArch): SockFilter[] {
  const t = ARCH_TABLES[arch];
  const nr = (name: keyof typeof t.nr): number | null => t.nr[name];
  const ops: Op[] = [
    { kind: 'ld', offset: DATA.arch },
    { kind: 'jeq', k: t.auditArch, jt: 'next', jf: 'kill' },
    { kind: 'ld', offset: DATA.nr },
  ];
  if (t.x32Bit !== null) ops.push({ kind: 'jset', k: t.x32Bit, jt: 'eperm', jf: 'next' });
  for (const name of DENIED) {
    const n = nr(name);
    if (n !== null) ops.push({ kind: 'jeq', k: n, jt: 'eperm', jf: 'next' });
  }
  ops.push(
    { kind: 'jeq', k: nr('clone3')!, jt: 'enosys', jf: 'next' },
    { kind: 'jeq', k: nr('ptrace')!, jt: 'ptrace', jf: 'next' },
    { kind: 'jeq', k: nr('clone')!, jt: 'clone', jf: 'next' },
    { kind: 'jeq', k: nr('socket')!, jt: 'socket', jf: 'next' },
    { kind: 'jeq', k: nr('personality')!, jt: 'personality', jf: 'allow' },
    // ptrace: attaching to a process that is not our tracee; TRACEME and requests on own tracees stay.
    { kind: 'label', name: 'ptrace' },
    { kind: 'ld', offset: DATA.argLow(0) },
    { kind: 'jeq', k: PTRACE_ATTACH, jt: 'eperm', jf: 'next' },
    { kind: 'jeq', k: PTRACE_SEIZE, jt: 'eperm', jf: 'allow' },
    // clone: any CLONE_NEW* flag (flags are arg 0 on both ABIs; the kernel reads only the low 32 bits).
    { kind: 'label', name: 'clone' },
    { kind: 'ld', offset: DATA.argLow(0) },
    { kind: 'jset', k: CLONE_NEW_MASK, jt: 'eperm', jf: 'allow' },
    // socket(domain, type, protocol): no packet sockets, netlink only for NETLINK_ROUTE, no SOCK_RAW elsewhere.
    { kind: 'label', name: 'socket' },
    { kind: 'ld', offset: DATA.argLow(0) },
    { kind: 'jeq', k: AF_PACKET, jt: 'eperm', jf: 'next' },
    { kind: 'jeq', k: AF_NETLINK, jt: 'next', jf: 'socket-type' },
    { kind: 'ld', offset: DATA.argLow(2) },
    { kind: 'jeq', k: NETLINK_ROUTE, jt: 'allow', jf: 'eperm' },
    { kind: 'label', name: 'socket-type' },
    { kind: 'ld', offset: DATA.argLow(1) },
    { kind: 'and', k: SOCK_TYPE_MASK },
    { kind: 'jeq', k: SOCK_RAW, jt: 'eperm', jf: 'allow' },
    // personality: only PER_LINUX and the query.
    { kind: 'label', name: 'personality' },
    { kind: 'ld', offset: DATA.argLow(0) },
    { kind: 'jeq', k: PER_LINUX, jt: 'allow', jf: 'next' },
    { kind: 'jeq', k: PERSONALITY_QUERY, jt: 'allow', jf: 'eperm' },
    { kind: 'label', name: 'allow' },
    { kind: 'ret', k: RET.ALLOW },
    { kind: 'label', name: 'eperm' },
    { kind: 'ret', k: RET.ERRNO | EPERM },
    { kind: 'label', name: 'enosys' },
    { kind: 'ret', k: RET.ERRNO | ENOSYS },
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
