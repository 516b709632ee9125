/**
 * The seccomp filter in a real netns bottle (docs/decisions/netns-seccomp.md): every denied class
 * returns EPERM (clone3 ENOSYS) to a raw `syscall()` from perl, another ABI is killed, and ordinary
 * agent work still runs. The arguments are chosen so that WITHOUT the filter most calls fail
 * differently (EFAULT, ENOENT, EBADF, ESRCH, EINVAL) or succeed, so a missing rule shows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { sandboxFailure } from '../../src/backends/netns/sandbox-failure.js';
import { seccompArch } from '../../src/backends/netns/seccomp.js';
import type { SyscallName } from '../../src/backends/netns/seccomp-rules.js';
import { ARCH_TABLES } from '../../src/backends/netns/seccomp-syscalls.js';
import { BottleError } from '../../src/errors.js';
import { skipReason } from '../helpers/capabilities.js';
import { leftovers } from './helpers/leftovers.js';
import { makePlan, standinCommand, tempHome } from './helpers/plan.js';

const rnd = () => Math.random().toString(36).slice(2, 8);
const EPERM = 1;
const ENOSYS = 38;

function perlMissing(): string | false {
  if (spawnSync('/usr/bin/perl', ['-e', '1']).status === 0) return false;
  process.stderr.write('SKIP (needs /usr/bin/perl)\n');
  return 'needs /usr/bin/perl';
}

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip') || perlMissing())('netns: seccomp filter in a real bottle', () => {
  const backend = createNetnsBackend({ sidecarCommand: standinCommand });
  const home = tempHome();
  const arch = seccompArch(process.arch);
  const nr = ARCH_TABLES[arch].nr;
  let b: NetnsBottle;

  beforeAll(async () => {
    b = (await backend.launch(makePlan(home, `sc-${rnd()}`), {}, { onProgress: () => undefined })) as NetnsBottle;
  });
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  });

  /** Runs each raw syscall in perl inside the bottle; returns name → errno (or "ok"). */
  async function syscalls(cases: ReadonlyArray<[label: string, name: SyscallName | number, args: string]>): Promise<Map<string, string>> {
    const lines = ['use POSIX ();', 'sub t { my ($n, $r) = @_; my $e = $! + 0; print "$n=", ($r == -1 ? $e : "ok"), "\\n"; }'];
    for (const [label, name, args] of cases) {
      const n = typeof name === 'number' ? name : nr[name];
      if (n === null) continue;
      // perl passes strings by pointer and wants them writable: copy each literal into a variable.
      const strings: string[] = [];
      const a = args.replace(/"[^"]*"/g, (lit) => `$s${strings.push(lit) - 1}`);
      const decl = strings.map((lit, i) => `my $s${i} = ${lit};`).join(' ');
      // A clone that got through returns 0 in the child: it leaves at once.
      lines.push(`{ ${decl} my $r = syscall(${n}${a ? `, ${a}` : ''}); POSIX::_exit(0) if $r == 0 && '${label}' =~ /^clone/; t('${label}', $r); }`);
    }
    const r = await b.exec(['/usr/bin/perl', '-e', lines.join('\n')]);
    expect(r.sandboxError).toBeUndefined();
    expect(r.stderr).toBe('');
    return new Map(r.stdout.split('\n').filter(Boolean).map((l) => l.split('=') as [string, string]));
  }

  function expectAll(results: Map<string, string>, labels: readonly string[], errno: number): void {
    const wrong = labels.filter((l) => results.has(l) && results.get(l) !== String(errno)).map((l) => `${l}=${results.get(l)}`);
    expect(wrong, `expected errno ${errno}`).toEqual([]);
  }

  it('the filter is loaded for the agent command', async () => {
    const r = await b.exec(['/bin/sh', '-c', 'grep -E "^(NoNewPrivs|Seccomp|Seccomp_filters):" /proc/self/status']);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(r.stdout).toMatch(/Seccomp:\s+2/);
  });

  it('ptrace attach/seize, process_vm_*, keyrings, bpf, perf, userfaultfd: EPERM; PTRACE_TRACEME still works', async () => {
    const cases: Array<[string, SyscallName, string]> = [
      ['ptrace_attach', 'ptrace', '16, 999999, 0, 0'],
      ['ptrace_seize', 'ptrace', '0x4206, 999999, 0, 0'],
      ['process_vm_readv', 'process_vm_readv', '999999, 0, 0, 0, 0, 0'],
      ['process_vm_writev', 'process_vm_writev', '999999, 0, 0, 0, 0, 0'],
      ['keyctl', 'keyctl', '0, -3, 0'],
      ['add_key', 'add_key', '"user", "bb", "x", 1, -3'],
      ['request_key', 'request_key', '"user", "bb-none", 0, 0'],
      ['bpf', 'bpf', '0, 0, 0'],
      ['perf_event_open', 'perf_event_open', '0, 0, -1, -1, 0'],
      ['userfaultfd', 'userfaultfd', '1'],
    ];
    const res = await syscalls(cases);
    expectAll(res, cases.map((c) => c[0]), EPERM);
    expect(res.size).toBe(cases.length);
    const traceme = await b.exec(['/usr/bin/perl', '-e', `my $p = fork(); if ($p == 0) { my $x = syscall(${nr.ptrace}, 0, 0, 0, 0); exec('/bin/true') if $x == 0; POSIX::_exit(3) } waitpid($p, 0); print "traceme=", $? >> 8, "\\n";`]);
    expect(traceme.stdout).toBe('traceme=0\n');
  });

  it('mounts and namespaces: mount family, chroot, unshare, setns, clone with CLONE_NEW*: EPERM; clone3: ENOSYS', async () => {
    const cases: Array<[string, SyscallName, string]> = [
      ['mount', 'mount', '1, 1, 1, 0, 0'],
      ['umount2', 'umount2', '"/tmp", 0xffff'],
      ['pivot_root', 'pivot_root', '".", "."'],
      ['chroot', 'chroot', '"/nonexistent"'],
      ['unshare', 'unshare', '0'],
      ['setns', 'setns', '-1, 0'],
      ['open_tree', 'open_tree', '-100, "/nonexistent", 0'],
      ['move_mount', 'move_mount', '-1, "", -1, "", 0'],
      ['fsopen', 'fsopen', '"tmpfs", 0'],
      ['fsconfig', 'fsconfig', '-1, 0, 0, 0, 0'],
      ['fsmount', 'fsmount', '-1, 0, 0'],
      ['fspick', 'fspick', '-100, "/", 0'],
      ['mount_setattr', 'mount_setattr', '-100, "/nonexistent", 0, 0, 0'],
      ['clone_newuser', 'clone', `${0x10000000 | 17}, 0, 0, 0, 0`],
      ['clone_newnet', 'clone', `${0x40000000 | 17}, 0, 0, 0, 0`],
      ['clone_newns', 'clone', `${0x00020000 | 17}, 0, 0, 0, 0`],
    ];
    const res = await syscalls([...cases, ['clone3', 'clone3', '0, 0']]);
    expectAll(res, cases.map((c) => c[0]), EPERM);
    expect(res.get('clone3')).toBe(String(ENOSYS));
    const u = await b.exec(['/bin/sh', '-c', 'unshare -U true; echo "rc=$?"; unshare -n true; echo "rc=$?"']);
    expect(u.stdout).toBe('rc=1\nrc=1\n');
    expect(u.stderr.match(/Operation not permitted/g) ?? []).toHaveLength(2);
  });

  it('sockets: AF_PACKET, non-route netlink, SOCK_RAW: EPERM; inet stream and NETLINK_ROUTE allowed', async () => {
    const res = await syscalls([
      ['packet', 'socket', '17, 3, 0x0300'],
      ['netlink_audit', 'socket', '16, 3, 9'],
      ['netlink_uevent', 'socket', '16, 2, 15'],
      ['inet_raw', 'socket', '2, 3, 1'],
      ['inet_stream', 'socket', '2, 1, 0'],
      ['netlink_route', 'socket', `16, ${3 | 0o2000000}, 0`],
    ]);
    expectAll(res, ['packet', 'netlink_audit', 'netlink_uevent', 'inet_raw'], EPERM);
    expect(res.get('inet_stream')).toBe('ok');
    expect(res.get('netlink_route')).toBe('ok');
  });

  it('host-level calls: EPERM; personality only PER_LINUX and the query', async () => {
    const cases: Array<[string, SyscallName, string]> = [
      ['kexec_load', 'kexec_load', '0, 0, 0, 0'],
      ['kexec_file_load', 'kexec_file_load', '-1, -1, 0, "", 0'],
      ['init_module', 'init_module', '0, 0, ""'],
      ['finit_module', 'finit_module', '-1, "", 0'],
      ['delete_module', 'delete_module', '"bb-none", 0'],
      ['reboot', 'reboot', '0, 0, 0, 0'],
      ['swapon', 'swapon', '"/nonexistent", 0'],
      ['swapoff', 'swapoff', '"/nonexistent"'],
      ['acct', 'acct', '0'],
      ['iopl', 'iopl', '0'],
      ['ioperm', 'ioperm', '0, 0, 0'],
      ['open_by_handle_at', 'open_by_handle_at', '-100, 0, 0'],
      ['name_to_handle_at', 'name_to_handle_at', '-100, "/nonexistent", 0, 0, 0'],
      ['quotactl', 'quotactl', '0, 0, 0, 0'],
      ['quotactl_fd', 'quotactl_fd', '-1, 0, 0, 0'],
      ['lookup_dcookie', 'lookup_dcookie', '0, 0, 0'],
      ['syslog', 'syslog', '10, 0, 0'],
      ['settimeofday', 'settimeofday', '1, 0'],
      ['clock_settime', 'clock_settime', '0, 1'],
      ['clock_adjtime', 'clock_adjtime', '0, 1'],
      ['adjtimex', 'adjtimex', '1'],
      ['personality_norandom', 'personality', '0x0040000'],
    ];
    const res = await syscalls([...cases, ['personality_query', 'personality', '0xffffffff'], ['personality_linux', 'personality', '0']]);
    expectAll(res, cases.map((c) => c[0]), EPERM);
    expect(res.get('personality_query')).toBe('ok');
    expect(res.get('personality_linux')).toBe('ok');
  });

  it.runIf(arch === 'x86_64')('x86_64: x32 calls get EPERM', async () => {
    const res = await syscalls([['x32_getpid', 0x40000000 | 39, '']]);
    expect(res.get('x32_getpid')).toBe(String(EPERM));
  });

  it.runIf(arch === 'x86_64')('x86_64: an i386 call (int 0x80) kills the process with SIGSYS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-int80-'));
    try {
      // A hand-made static ELF (no compiler needed): i386 getpid through int 0x80, then exit(0).
      writeFileSync(join(dir, 'int80'), int80Elf(), { mode: 0o755 });
      // Without a filter the binary works where the kernel runs i386 calls from 64-bit processes;
      // then only the filter's kill (SIGSYS) proves the ABI is closed. Some kernels refuse the
      // call themselves (SIGSEGV: no i386 entry, e.g. some hypervisor guests): the ABI is closed
      // before the filter, which is said, and the call must still never complete in the bottle.
      const control = spawnSync(join(dir, 'int80'));
      await b.copyIn(join(dir, 'int80'), '/home/node/int80');
      const r = await b.exec(['/bin/sh', '-c', '/home/node/int80; echo "rc=$?"']);
      if (control.status === 0) {
        expect(r.stdout).toBe(`rc=${128 + 31}\n`);
      } else {
        expect(control.signal, `control run without the filter: status ${control.status}`).toBe('SIGSEGV');
        console.warn('NOTE this kernel refuses i386 calls from 64-bit processes itself (control: SIGSEGV); the filter\'s SIGSYS kill cannot be observed here');
        expect(r.stdout).toMatch(/^rc=(159|139)\n$/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ordinary agent work still runs: node, git init, curl --version, ip addr, background jobs, threads', async () => {
    const r = await b.exec(['/bin/sh', '-c', [
      'node -e "console.log(\'node\', 6 * 7)"',
      'git init -q repo && echo git-ok',
      'curl --version >/dev/null && echo curl-ok',
      'ip addr show lo | grep -q "127.0.0.1" && echo ip-ok',
      'sleep 0.1 & wait $! && echo bg-ok',
      'node -e "require(\'child_process\').execFileSync(\'/bin/true\'); new (require(\'worker_threads\').Worker)(\'1\', { eval: true }).on(\'exit\', () => console.log(\'threads-ok\'))"',
    ].join('; ')]);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['node 42', 'git-ok', 'curl-ok', 'ip-ok', 'bg-ok', 'threads-ok']));
  });

  it('a host architecture without a syscall table fails the launch with one line naming it, leaving nothing behind', async () => {
    const slug = `sc-${rnd()}`;
    const real = Object.getOwnPropertyDescriptor(process, 'arch')!;
    Object.defineProperty(process, 'arch', { ...real, value: 'riscv64' });
    let err: unknown;
    try {
      await backend.launch(makePlan(home, slug), {}, { onProgress: () => undefined });
    } catch (e) {
      err = e;
    } finally {
      Object.defineProperty(process, 'arch', real);
    }
    expect(err).toBeInstanceOf(BottleError);
    expect((err as BottleError).message).toMatch(/^netns has no seccomp filter for host architecture "riscv64".*$/);
    expect((err as BottleError).message).not.toContain('\n');
    expect(leftovers(slug)).toEqual([]);
  });

  it('a seccomp filter bwrap cannot load is reported as such (real bwrap, 7-byte filter)', () => {
    const r = spawnSync('/bin/sh', ['-c', 'printf 1234567 | bwrap --ro-bind / / --seccomp 0 -- /bin/true'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(sandboxFailure(r.status ?? 1, r.stderr)).toMatch(/^the sandbox's seccomp filter could not be loaded \(bwrap: .*seccomp.*\); the command did not run$/);
  });
});

/**
 * The smallest x86_64 ELF executable that makes one i386 system call: `mov eax, 20` (getpid in the
 * i386 table); `int 0x80`; `xor edi, edi`; `mov eax, 60`; `syscall` (exit 0 in the native table).
 */
function int80Elf(): Buffer {
  const code = Buffer.from([0xb8, 0x14, 0, 0, 0, 0xcd, 0x80, 0x31, 0xff, 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05]);
  const base = 0x400000n;
  const ehdr = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(ehdr, 0);
  ehdr.writeUInt16LE(2, 16); // ET_EXEC
  ehdr.writeUInt16LE(0x3e, 18); // EM_X86_64
  ehdr.writeUInt32LE(1, 20);
  ehdr.writeBigUInt64LE(base + 120n, 24); // entry: right after the headers
  ehdr.writeBigUInt64LE(64n, 32); // program headers follow the ELF header
  ehdr.writeUInt16LE(64, 52);
  ehdr.writeUInt16LE(56, 54);
  ehdr.writeUInt16LE(1, 56);
  const phdr = Buffer.alloc(56);
  const size = BigInt(64 + 56 + code.length);
  phdr.writeUInt32LE(1, 0); // PT_LOAD
  phdr.writeUInt32LE(5, 4); // R + X
  phdr.writeBigUInt64LE(0n, 8);
  phdr.writeBigUInt64LE(base, 16);
  phdr.writeBigUInt64LE(base, 24);
  phdr.writeBigUInt64LE(size, 32);
  phdr.writeBigUInt64LE(size, 40);
  phdr.writeBigUInt64LE(0x1000n, 48);
  return Buffer.concat([ehdr, phdr, code]);
}
