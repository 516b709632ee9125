/**
 * The agent sandbox's seccomp program (src/backends/netns/seccomp.ts), run by a small cBPF
 * interpreter over `struct seccomp_data` cases: each denied class, its allowed neighbours, and
 * the ABI checks, for x86_64 and aarch64. Pure. The kernel-side check is netns-seccomp.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BottleError } from '../../src/errors.js';
import { sandboxFailure } from '../../src/backends/netns/sandbox-failure.js';
import { encodeFilter, RET, seccompArch, seccompFilterFor, seccompProgram } from '../../src/backends/netns/seccomp.js';
import { DENIED, type SyscallName } from '../../src/backends/netns/seccomp-rules.js';
import { ARCH_TABLES, AUDIT_ARCH_I386, type SeccompArch } from '../../src/backends/netns/seccomp-syscalls.js';
import { runFilter } from '../helpers/cbpf.js';

const EPERM = RET.ERRNO | 1;

/** What docs/decisions/netns-seccomp.md promises is denied outright (written out here, not taken from the module). */
const MUST_DENY: SyscallName[] = [
  'process_vm_readv', 'process_vm_writev', 'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'userfaultfd',
  'mount', 'umount2', 'pivot_root', 'chroot', 'unshare', 'setns', 'open_tree', 'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr',
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'reboot', 'swapon', 'swapoff', 'acct', 'iopl', 'ioperm',
  'open_by_handle_at', 'name_to_handle_at', 'quotactl', 'lookup_dcookie', 'syslog', 'settimeofday', 'clock_settime', 'adjtimex',
];
const ENOSYS = RET.ERRNO | 38;

for (const arch of ['x86_64', 'aarch64'] as SeccompArch[]) {
  describe(`seccomp filter (${arch})`, () => {
    const t = ARCH_TABLES[arch];
    const bytes = encodeFilter(seccompProgram(arch));
    const call = (name: SyscallName | number, ...args: Array<number | bigint>): number => {
      const nr = typeof name === 'number' ? name : t.nr[name];
      if (nr === null || nr === undefined) throw new Error(`${String(name)} has no number on ${arch}`);
      return runFilter(bytes, { nr, arch: t.auditArch, args: args.map((x) => BigInt(x)) });
    };

    it('every unconditionally denied call gets EPERM (iopl/ioperm exist on x86_64 only)', () => {
      for (const name of [...MUST_DENY, ...DENIED]) {
        if (t.nr[name] === null) continue;
        expect(call(name), name).toBe(EPERM);
      }
      expect(t.nr.iopl === null).toBe(arch === 'aarch64');
      // the numbers are distinct (a typo that aliases two calls would silently allow one)
      const nums = Object.values(t.nr).filter((n): n is number => n !== null);
      expect(new Set(nums).size).toBe(nums.length);
    });

    it('ordinary calls are allowed (read, write, openat, execve, getpid, socketpair, unshare-free fork)', () => {
      const ordinary = arch === 'x86_64' ? [0, 1, 257, 59, 39, 53, 57, 61] : [63, 64, 56, 221, 172, 199, 260];
      for (const nr of ordinary) expect(call(nr), `nr ${nr}`).toBe(RET.ALLOW);
    });

    it('ptrace: ATTACH and SEIZE denied; TRACEME, PEEKDATA, CONT, DETACH allowed', () => {
      expect(call('ptrace', 16, 1234)).toBe(EPERM);
      expect(call('ptrace', 0x4206, 1234)).toBe(EPERM);
      expect(call('ptrace', 0)).toBe(RET.ALLOW); // TRACEME
      expect(call('ptrace', 2, 1234)).toBe(RET.ALLOW); // PEEKDATA
      expect(call('ptrace', 7, 1234)).toBe(RET.ALLOW); // CONT
      expect(call('ptrace', 17, 1234)).toBe(RET.ALLOW); // DETACH
      expect(call('ptrace', 0x4207, 1234)).toBe(RET.ALLOW); // INTERRUPT (a seized tracee only)
    });

    it('clone: any CLONE_NEW* flag denied, plain fork and thread creation allowed; clone3 is ENOSYS', () => {
      const SIGCHLD = 17;
      for (const f of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
        expect(call('clone', f | SIGCHLD), `flag 0x${f.toString(16)}`).toBe(EPERM);
      }
      expect(call('clone', SIGCHLD)).toBe(RET.ALLOW); // fork
      expect(call('clone', 0x01000000 | 0x00200000 | SIGCHLD)).toBe(RET.ALLOW); // CHILD_SETTID|CHILD_CLEARTID: glibc fork
      expect(call('clone', 0x003d0f00)).toBe(RET.ALLOW); // pthread_create's flags
      expect(call('clone', 0x80 | SIGCHLD)).toBe(RET.ALLOW); // 0x80 is exit-signal bits in clone(), not CLONE_NEWTIME
      expect(call('clone3', 0, 88)).toBe(ENOSYS);
    });

    it('socket: AF_PACKET, non-route netlink and SOCK_RAW denied; inet streams/datagrams and NETLINK_ROUTE allowed', () => {
      const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, NONBLOCK = 0o4000, CLOEXEC = 0o2000000;
      expect(call('socket', 17, SOCK_RAW, 0x0300)).toBe(EPERM); // AF_PACKET
      expect(call('socket', 17, SOCK_DGRAM, 0)).toBe(EPERM);
      expect(call('socket', 16, SOCK_RAW, 9)).toBe(EPERM); // NETLINK_AUDIT
      expect(call('socket', 16, SOCK_DGRAM, 15)).toBe(EPERM); // NETLINK_KOBJECT_UEVENT
      expect(call('socket', 16, SOCK_RAW | CLOEXEC, 4)).toBe(EPERM); // NETLINK_SOCK_DIAG
      expect(call('socket', 2, SOCK_RAW, 1)).toBe(EPERM); // AF_INET raw ICMP
      expect(call('socket', 10, SOCK_RAW | NONBLOCK | CLOEXEC, 58)).toBe(EPERM); // AF_INET6 raw, flags masked off
      expect(call('socket', 2, SOCK_STREAM, 0)).toBe(RET.ALLOW);
      expect(call('socket', 2, SOCK_STREAM | NONBLOCK | CLOEXEC, 6)).toBe(RET.ALLOW);
      expect(call('socket', 10, SOCK_DGRAM, 17)).toBe(RET.ALLOW);
      expect(call('socket', 1, SOCK_STREAM | CLOEXEC, 0)).toBe(RET.ALLOW); // AF_UNIX
      expect(call('socket', 16, SOCK_RAW | CLOEXEC, 0)).toBe(RET.ALLOW); // NETLINK_ROUTE: `ip addr`
      expect(call('socket', 16, SOCK_DGRAM, 0)).toBe(RET.ALLOW);
    });

    it('personality: only PER_LINUX and the query', () => {
      expect(call('personality', 0)).toBe(RET.ALLOW);
      expect(call('personality', 0xffffffff)).toBe(RET.ALLOW);
      expect(call('personality', 0x0040000)).toBe(EPERM); // ADDR_NO_RANDOMIZE
      expect(call('personality', 0x0008)).toBe(EPERM); // PER_LINUX32
    });

    it('another ABI is killed; the arch check comes before any allow', () => {
      const other = arch === 'x86_64' ? [AUDIT_ARCH_I386, ARCH_TABLES.aarch64.auditArch] : [0x40000028 /* arm */, ARCH_TABLES.x86_64.auditArch];
      for (const a of other) {
        expect(runFilter(bytes, { nr: 20, arch: a })).toBe(RET.KILL_PROCESS);
        expect(runFilter(bytes, { nr: 0, arch: a })).toBe(RET.KILL_PROCESS);
      }
    });

    if (arch === 'x86_64') {
      it('x32 calls (nr | 0x40000000) get EPERM, even ones allowed natively', () => {
        expect(call(0x40000000 | 39)).toBe(EPERM); // getpid
        expect(call(0x40000000 | 0)).toBe(EPERM);
      });
    }
  });
}

describe('seccomp filter encoding and host architecture', () => {
  it('encodes struct sock_filter little-endian, 8 bytes each', () => {
    const b = encodeFilter([{ code: 0x0015, jt: 2, jf: 3, k: 0xc000003e }]);
    expect([...b]).toEqual([0x15, 0x00, 0x02, 0x03, 0x3e, 0x00, 0x00, 0xc0]);
  });

  it('x64 and arm64 map to their tables; any other architecture fails closed naming it', () => {
    expect(seccompArch('x64')).toBe('x86_64');
    expect(seccompArch('arm64')).toBe('aarch64');
    for (const a of ['riscv64', 'ia32', 'ppc64', 'constructor', 'toString']) {
      let err: unknown;
      try {
        seccompFilterFor(a);
      } catch (e) {
        err = e;
      }
      expect(err, a).toBeInstanceOf(BottleError);
      expect((err as BottleError).message).toContain(`"${a}"`);
      expect((err as BottleError).message.split('\n')).toHaveLength(1);
    }
  });
});

describe('sandbox failure lines for the filter and the options pipe', () => {
  it('bwrap seccomp errors name the filter; other bwrap errors pass through; the command\'s own errors are not sandbox errors', () => {
    for (const line of [
      'bwrap: Invalid seccomp data, must be multiple of 8',
      "bwrap: Can't read seccomp data: Bad file descriptor",
      'bwrap: prctl(PR_SET_SECCOMP): Invalid argument',
      'bwrap: Unable to set up system call filtering as requested: prctl(PR_SET_SECCOMP) reported EINVAL. (Hint: this requires a kernel configured with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER.)',
    ]) {
      expect(sandboxFailure(1, `${line}\n`)).toBe(`the sandbox's seccomp filter could not be loaded (${line}); the command did not run`);
    }
    expect(sandboxFailure(1, "bwrap: Can't read --args data: Bad file descriptor")).toMatch(/^the sandbox's options could not be passed to bwrap \(bwrap: Can't read --args data/);
    expect(sandboxFailure(1, 'bwrap: execvp claude: No such file or directory')).toBe('bwrap: execvp claude: No such file or directory');
    expect(sandboxFailure(1, 'perl: seccomp says no')).toBeNull();
    expect(sandboxFailure(0, 'bwrap: Invalid seccomp data, must be multiple of 8')).toBeNull();
  });
});
