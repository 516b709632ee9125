/**
 * The agent's seccomp policy as data: the one place both of its encodings derive from — the
 * classic-BPF program bwrap loads in a netns bottle (seccomp.ts) and the seccomp profile the docker
 * backend gives its agent container (src/backends/docker/seccomp-profile.ts). Pure; no syscall
 * numbers here (they are per architecture, in seccomp-syscalls.ts). Why each rule:
 * docs/decisions/netns-seccomp.md; how the docker profile expresses them:
 * docs/decisions/docker-seccomp.md.
 *
 * Every argument test reads the low 32 bits of the argument, as the BPF program does (the kernel
 * reads these arguments as 32-bit ints, or only their low 32 bits for clone's flags).
 */
import {
  AF_NETLINK, AF_PACKET, CLONE_NEW_MASK, ENOSYS, EPERM, NETLINK_ROUTE, PER_LINUX, PERSONALITY_QUERY,
  PTRACE_ATTACH, PTRACE_SEIZE, SOCK_RAW, SOCK_TYPE_MASK,
} from './seccomp-syscalls.js';

/** Denied outright with EPERM. */
export const DENIED = [
  // reading or writing another process's memory
  'process_vm_readv', 'process_vm_writev',
  // kernel keyrings, eBPF, perf, userfaultfd: large kernel attack surface, no agent use
  'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'userfaultfd',
  // new mounts and namespaces
  'mount', 'umount2', 'pivot_root', 'chroot', 'unshare', 'setns',
  'open_tree', 'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr',
  // host-level administration
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'reboot',
  'swapon', 'swapoff', 'acct', 'iopl', 'ioperm', 'open_by_handle_at', 'name_to_handle_at',
  'quotactl', 'quotactl_fd', 'lookup_dcookie', 'syslog', 'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex',
] as const;

/** Allowed or denied by their arguments, or answered with another errno. */
export const FILTERED = ['ptrace', 'clone', 'clone3', 'socket', 'personality'] as const;

export type SyscallName = (typeof DENIED)[number] | (typeof FILTERED)[number];

/** The errno every denial returns. */
export const DENY_ERRNO = EPERM;

export const AGENT_SECCOMP_RULES = {
  /** Calls of another ABI (i386 on x86_64, 32-bit ARM on aarch64): the numbers mean other calls there, so the process is killed. */
  foreignAbi: 'kill',
  /** x86_64's x32 ABI (same arch value, bit 30 of the number): every call is denied. */
  x32: 'deny',
  denied: DENIED,
  /** clone3's flags are in memory seccomp cannot read; ENOSYS makes libc fall back to clone, which is checked. */
  enosys: { syscall: 'clone3', errno: ENOSYS },
  /** Attaching to a process that is not our tracee; TRACEME and requests on own tracees stay. */
  ptrace: { arg: 0, deny: [PTRACE_ATTACH, PTRACE_SEIZE] },
  /** Any CLONE_NEW* flag. */
  clone: { arg: 0, denyAnyBit: CLONE_NEW_MASK },
  socket: {
    domainArg: 0,
    typeArg: 1,
    protocolArg: 2,
    /** Domains denied whatever the rest. */
    denyDomains: [AF_PACKET],
    /** Netlink only for these protocols (routing: `ip addr` needs it, with SOCK_RAW). */
    netlink: { domain: AF_NETLINK, allowProtocols: [NETLINK_ROUTE] },
    /** In every other domain, this type (after the mask strips SOCK_NONBLOCK/SOCK_CLOEXEC) is denied. */
    denyTypeElsewhere: { mask: SOCK_TYPE_MASK, type: SOCK_RAW },
  },
  /** Only these personalities (PER_LINUX and the query). */
  personality: { arg: 0, allow: [PER_LINUX, PERSONALITY_QUERY] },
} as const;

export type AgentSeccompRules = typeof AGENT_SECCOMP_RULES;
