/**
 * Syscall numbers and ABI constants the agent sandbox's seccomp filter needs (seccomp.ts), per
 * supported host architecture. Pure data. Numbers are the kernel's uapi tables:
 * arch/x86/entry/syscalls/syscall_64.tbl (x86_64) and include/uapi/asm-generic/unistd.h (aarch64).
 * Which calls are denied and how: seccomp-rules.ts (docs/decisions/netns-seccomp.md).
 */
import type { SyscallName } from './seccomp-rules.js';

/** Architectures the netns backend can filter, by their kernel names. */
export type SeccompArch = 'x86_64' | 'aarch64';

/** Node's `process.arch` for each supported architecture. */
export const NODE_ARCH: Record<string, SeccompArch> = { x64: 'x86_64', arm64: 'aarch64' };

export interface ArchTable {
  /** AUDIT_ARCH_* value seccomp_data.arch carries for the native ABI. */
  auditArch: number;
  /** x86_64 only: the x32 ABI shares AUDIT_ARCH_X86_64 and is told apart by this bit of nr. */
  x32Bit: number | null;
  /** null: the call does not exist on this architecture (nothing to deny). */
  nr: Record<SyscallName, number | null>;
}

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_I386 = 0x40000003;
export const X32_SYSCALL_BIT = 0x40000000;

export const ARCH_TABLES: Record<SeccompArch, ArchTable> = {
  x86_64: {
    auditArch: AUDIT_ARCH_X86_64,
    x32Bit: X32_SYSCALL_BIT,
    nr: {
      ptrace: 101, process_vm_readv: 310, process_vm_writev: 311,
      keyctl: 250, add_key: 248, request_key: 249, bpf: 321, perf_event_open: 298, userfaultfd: 323,
      mount: 165, umount2: 166, pivot_root: 155, chroot: 161, unshare: 272, setns: 308,
      open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442,
      clone: 56, clone3: 435, socket: 41,
      kexec_load: 246, kexec_file_load: 320, init_module: 175, finit_module: 313, delete_module: 176, reboot: 169,
      swapon: 167, swapoff: 168, acct: 163, iopl: 172, ioperm: 173, open_by_handle_at: 304, name_to_handle_at: 303,
      quotactl: 179, quotactl_fd: 443, lookup_dcookie: 212, syslog: 103, settimeofday: 164, clock_settime: 227,
      clock_adjtime: 305, adjtimex: 159, personality: 135,
    },
  },
  aarch64: {
    auditArch: AUDIT_ARCH_AARCH64,
    x32Bit: null,
    nr: {
      ptrace: 117, process_vm_readv: 270, process_vm_writev: 271,
      keyctl: 219, add_key: 217, request_key: 218, bpf: 280, perf_event_open: 241, userfaultfd: 282,
      mount: 40, umount2: 39, pivot_root: 41, chroot: 51, unshare: 97, setns: 268,
      open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442,
      clone: 220, clone3: 435, socket: 198,
      kexec_load: 104, kexec_file_load: 294, init_module: 105, finit_module: 273, delete_module: 106, reboot: 142,
      swapon: 224, swapoff: 225, acct: 89, iopl: null, ioperm: null, open_by_handle_at: 265, name_to_handle_at: 264,
      quotactl: 60, quotactl_fd: 443, lookup_dcookie: 18, syslog: 116, settimeofday: 170, clock_settime: 112,
      clock_adjtime: 266, adjtimex: 171, personality: 92,
    },
  },
};

// Argument values the filter tests (uapi: linux/ptrace.h, linux/sched.h, linux/socket.h, linux/netlink.h, linux/personality.h).
export const PTRACE_ATTACH = 16;
export const PTRACE_SEIZE = 0x4206;
/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. CLONE_NEWTIME (0x80) is clone3/unshare only; in clone() 0x80 is part of the exit signal. */
export const CLONE_NEW_MASK = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const NETLINK_ROUTE = 0;
export const SOCK_RAW = 3;
/** socket()'s type argument: the type proper; SOCK_NONBLOCK/SOCK_CLOEXEC sit above it. */
export const SOCK_TYPE_MASK = 0xf;
export const PER_LINUX = 0;
export const PERSONALITY_QUERY = 0xffffffff;
export const EPERM = 1;
export const ENOSYS = 38;
