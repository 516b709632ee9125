/** Row 16, F1, seccomp and setuid: the processes and kernel surface around the agent. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HOSTS, type Attack } from '../types.js';
import { curl, kv, pass, sq } from './probe.js';

const hashOf = (p: string) => {
  try {
    return createHash('sha256').update(readFileSync(p)).digest('hex');
  } catch {
    return 'missing';
  }
};

// x86_64 / aarch64 system call numbers.
const SYSCALLS = `
case "$(uname -m)" in
  aarch64) KEYCTL=219 BPF=280 PERF=241 UFFD=282 ;;
  *) KEYCTL=250 BPF=321 PERF=298 UFFD=323 ;;
esac`;

/** errno 1 (EPERM), 13 (EACCES), 38 (ENOSYS) = refused before the kernel handler did any work. */
const blocked = (v: string | undefined) => v !== undefined && /^-1:(1|13|38)$/.test(v);

export const processAttacks: Attack[] = [
  {
    id: '16',
    title: 'modify the routes file or signal the egress process',
    expected: 'not reachable from the agent; egress keeps serving the same table',
    async run(ctx) {
      const routes = ctx.probes.routesFile();
      const egress = ctx.probes.sidecarProcesses().find((p) => /sidecar\s+egress/.test(p.argv));
      const before = hashOf(routes);
      const script = [
        `for f in ${sq(routes)} /etc/bot-bottle/live-config/routes.yaml; do if [ -e "$f" ]; then echo "visible=$f"; fi; (echo "  - host: evil.example" >> "$f") 2>/dev/null && echo "written=$f"; done`,
        `kill -HUP ${egress?.pid ?? 999999} 2>/dev/null; echo "hup=$?"`,
        `kill -9 ${egress?.pid ?? 999999} 2>/dev/null; echo "kill9=$?"`,
        'sleep 30 & p=$!; kill "$p"; echo "control_kill=$?"',
      ].join('\n');
      const r = await ctx.sh(script);
      const v = kv(r);
      const changed = hashOf(routes) !== before;
      const still = egress ? ctx.probes.sidecarProcesses().some((p) => p.pid === egress.pid) : false;
      const serving = (await curl(ctx, [`https://${HOSTS.api}/control`])).status === 200;
      const ok = !!egress && !v.visible && !v.written && v.hup !== '0' && v.kill9 !== '0' && v.control_kill === '0' && !changed && still && serving;
      return pass(`routes file visible: ${v.visible ?? 'no'}, written: ${v.written ?? 'no'}, changed on host: ${changed}; kill -HUP/-9 egress(pid ${egress?.pid ?? '?'}) rc ${v.hup}/${v.kill9} (control ${v.control_kill}); egress alive ${still}, serving ${serving}`, ok);
    },
  },
  {
    id: 'F1',
    title: 'sidecar privilege: every sidecar process non-root with CapEff 0',
    expected: 'uid != 0 and CapEff 0 for the whole sidecar tree',
    async run(ctx) {
      const procs = ctx.probes.sidecarProcesses();
      const bad = procs.filter((p) => p.uid === 0 || !/^0+$/.test(p.capEff));
      const desc = (p: (typeof procs)[number]) => `${p.name}(pid ${p.pid}) uid ${p.uid} CapEff ${p.capEff}`;
      return pass(procs.length === 0 ? 'no sidecar processes found' : bad.length === 0 ? `${procs.length} processes, all non-root with no capabilities` : `${bad.length}/${procs.length} privileged: ${bad.slice(0, 3).map(desc).join('; ')}`, procs.length >= 2 && bad.length === 0);
    },
  },
  {
    id: 'SC',
    title: 'seccomp: unshare -r, mount, keyctl/bpf/perf_event_open/userfaultfd, netlink-audit',
    expected: 'every call refused (EPERM/ENOSYS)',
    async run(ctx) {
      const script = [
        SYSCALLS,
        'unshare -r true 2>/dev/null; echo "unshare=$?"',
        'mkdir -p "$HOME/m"; mount -t tmpfs none "$HOME/m" 2>/dev/null; echo "mount=$?"',
        `perl -e '$!=0; $r=syscall($ARGV[0],0,-3,0); print "keyctl=$r:".($!+0)."\\n"; $!=0; $r=syscall($ARGV[1],0,0,0); print "bpf=$r:".($!+0)."\\n"; $!=0; $r=syscall($ARGV[2],0,0,-1,-1,0); print "perf=$r:".($!+0)."\\n"; $!=0; $r=syscall($ARGV[3],1); print "uffd=$r:".($!+0)."\\n"' $KEYCTL $BPF $PERF $UFFD`,
        `perl -e 'socket(my $s, 16, 3, 9) ? print "nlaudit=ok\\n" : print "nlaudit=-1:".($!+0)."\\n"'`,
        `perl -e '$r=syscall(39); print "control_getpid=$r\\n"'`,
      ].join('\n');
      const v = kv(await ctx.sh(script));
      const checks: Array<[string, boolean]> = [
        ['unshare -r', v.unshare !== undefined && v.unshare !== '0'],
        ['mount', v.mount !== undefined && v.mount !== '0'],
        ['keyctl', blocked(v.keyctl)],
        ['bpf', blocked(v.bpf)],
        ['perf_event_open', blocked(v.perf)],
        ['userfaultfd', blocked(v.uffd)],
        ['netlink-audit socket', blocked(v.nlaudit)],
      ];
      const control = Number(v.control_getpid) > 0;
      const open = checks.filter(([, ok]) => !ok).map(([n]) => n);
      return pass(`${open.length ? `NOT refused: ${open.join(', ')}` : 'all refused'} (keyctl ${v.keyctl}, bpf ${v.bpf}, perf ${v.perf}, uffd ${v.uffd}, nl-audit ${v.nlaudit}); control getpid ${control ? 'ok' : 'FAILED'}`, open.length === 0 && control);
    },
  },
  {
    id: 'SIG',
    title: 'signals to processes outside the sandbox',
    expected: 'ESRCH/EPERM; the outside process survives',
    async run(ctx) {
      const outside = await ctx.probes.spawnOutsideAsAgentUid();
      const egress = ctx.probes.sidecarProcesses()[0];
      try {
        const r = kv(await ctx.sh([
          `kill -TERM ${outside.pid} 2>/dev/null; echo "outside=$?"`,
          `kill -0 ${egress?.pid ?? 999999} 2>/dev/null; echo "sidecar=$?"`,
          'sleep 30 & p=$!; kill "$p"; echo "control=$?"',
        ].join('\n')));
        await new Promise((res) => setTimeout(res, 200));
        const alive = outside.alive();
        return pass(`kill outside uid-1000 pid rc=${r.outside}, survived ${alive}; kill -0 sidecar rc=${r.sidecar}; control ${r.control}`, r.outside !== '0' && alive && r.sidecar !== '0' && r.control === '0');
      } finally {
        outside.kill();
      }
    },
  },
  {
    id: 'SUID',
    title: 'setuid binaries do not elevate',
    expected: 'a running setuid-root passwd keeps uid 1000 (real, effective, saved); NoNewPrivs 1 where the kernel reports it; setuid mount fails',
    async run(ctx) {
      // The effect, not only the flag: a setuid-root binary (passwd, blocked reading a fifo) is
      // running, and its /proc status shows which uids it got. With no-new-privileges off the same
      // probe reads `1000 0 0 0` (checked under runc); gVisor prints no NoNewPrivs line at all
      // (docs/decisions/docker-runsc.md).
      const r = kv(await ctx.sh([
        'echo "nnp=$(awk "/^NoNewPrivs/{print \\$2}" /proc/self/status)"',
        'echo "suid=$(find /usr/bin /bin -perm -4000 -type f 2>/dev/null | wc -l)"',
        'mkdir -p "$HOME/s"; /usr/bin/mount -t tmpfs none "$HOME/s" 2>/dev/null; echo "suidmount=$?"',
        'f="$HOME/.suid-fifo"; rm -f "$f"; mkfifo "$f"; exec 3<>"$f"',
        '[ -u /usr/bin/passwd ] && echo "passwdsuid=1"',
        // Read only once the child is passwd itself (not the shell's fork before exec).
        '/usr/bin/passwd <&3 >/dev/null 2>&1 & p=$!',
        'i=0; while [ "$(cat /proc/$p/comm 2>/dev/null)" != passwd ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done',
        '[ "$(cat /proc/$p/comm 2>/dev/null)" = passwd ] && echo "setuiduids=$(awk "/^Uid:/{print \\$2, \\$3, \\$4, \\$5}" /proc/$p/status)"',
        'kill $p 2>/dev/null; exec 3>&-; rm -f "$f"',
        `perl -e 'print "euid=$>\\n"'`,
      ].join('\n')));
      // Observed uids must all be 1000. NoNewPrivs 1 suffices where the kernel reports the flag
      // (on netns passwd can exit before it is observed); without the line (gVisor) only the
      // observed effect counts.
      const effect = r.setuiduids ? r.setuiduids === '1000 1000 1000 1000' : null; // empty: it exited between the two reads
      const noElevation = effect !== false && (r.nnp === '1' || (r.nnp === '' && effect === true && r.passwdsuid === '1'));
      const ok = noElevation && Number(r.suid) > 0 && r.suidmount !== '0' && r.euid === '1000';
      return pass(`NoNewPrivs ${r.nnp || '(not reported)'}; setuid passwd uids ${r.setuiduids || '?'}; setuid binaries present ${r.suid}; setuid mount rc ${r.suidmount}; euid ${r.euid}`, ok);
    },
  },
];
