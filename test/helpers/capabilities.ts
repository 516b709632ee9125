/**
 * Capability probes for tests that need root, bubblewrap, nftables, sshd, git, mitmproxy.
 * A missing capability skips LOUDLY: the reason is printed to stderr (never a silent pass).
 * Usage: `describe.skipIf(skipReason('root', 'bwrap'))('...', ...)`.
 */
import { spawnSync } from 'node:child_process';

export type Capability = 'root' | 'bwrap' | 'nft' | 'ip' | 'sshd' | 'git' | 'git-http-backend' | 'curl' | 'netns' | 'ssh-keygen';

const cache = new Map<Capability, string | null>();

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function probe(cap: Capability): string | null {
  switch (cap) {
    case 'root':
      return process.getuid?.() === 0 ? null : 'needs root (uid 0)';
    case 'bwrap':
      return which('bwrap') ? null : 'needs bubblewrap (apt-get install bubblewrap)';
    case 'nft':
      return which('nft') ? null : 'needs nftables (apt-get install nftables)';
    case 'ip':
      return which('ip') ? null : 'needs iproute2 (apt-get install iproute2)';
    case 'sshd':
      return which('/usr/sbin/sshd') || which('sshd') ? null : 'needs openssh-server (apt-get install openssh-server)';
    case 'git':
      return which('git') ? null : 'needs git';
    case 'git-http-backend': {
      const r = spawnSync('git', ['--exec-path'], { encoding: 'utf8' });
      if (r.status !== 0) return 'needs git';
      return spawnSync('test', ['-x', `${r.stdout.trim()}/git-http-backend`]).status === 0 ? null : 'needs git http-backend';
    }
    case 'ssh-keygen':
      return which('ssh-keygen') ? null : 'needs ssh-keygen (apt-get install openssh-client)';
    case 'curl':
      return which('curl') ? null : 'needs curl';
    case 'netns': {
      if (process.getuid?.() !== 0) return 'needs root for network namespaces';
      const name = `bbprobe${process.pid}`;
      const add = spawnSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
      spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      return add.status === 0 ? null : 'cannot create network namespaces here (ip netns add failed)';
    }
  }
}

/** Returns null when all capabilities are present, else a printed reason string. */
export function skipReason(...caps: Capability[]): string | false {
  const missing: string[] = [];
  for (const cap of caps) {
    if (!cache.has(cap)) cache.set(cap, probe(cap));
    const r = cache.get(cap);
    if (r) missing.push(r);
  }
  if (missing.length === 0) return false;
  const reason = missing.join('; ');
  process.stderr.write(`SKIP (${reason})\n`);
  return reason;
}
