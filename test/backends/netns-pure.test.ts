import { describe, expect, it } from 'vitest';
import { blockAt, pickBlock, usedBlocks } from '../../src/backends/netns/alloc.js';
import { firewallRuleset } from '../../src/backends/netns/firewall.js';
import { guestEtcFiles } from '../../src/backends/netns/guest-etc.js';
import { namesFor } from '../../src/backends/netns/names.js';
import { sandboxArgv } from '../../src/backends/netns/sandbox-argv.js';

describe('netns pure parts', () => {
  it('kernel names fit the 15-character limit and carry the prefixes', () => {
    const n = namesFor('a-very-long-slug-that-goes-on-and-on-forever-abcde');
    for (const name of [n.netns, n.vethHost, n.vethGuest]) {
      expect(name.length).toBeLessThanOrEqual(15);
      expect(name.startsWith('bb-')).toBe(true);
    }
    expect(n.table).toMatch(/^bot_bottle_[0-9a-f]{8}$/);
    expect(namesFor('x')).toEqual(namesFor('x'));
  });

  it('allocator: /30 blocks from 10.250.0.0/16 skip every block in use on the host', () => {
    expect(blockAt(0)).toMatchObject({ hostAddr: '10.250.0.1', guestAddr: '10.250.0.2' });
    expect(blockAt(64)).toMatchObject({ hostAddr: '10.250.1.1' });
    const ipOut = [
      '4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0',
      '9: bb-aaaaaaaah    inet 10.250.0.1/30 scope global bb-aaaaaaaah',
      '11: bb-bbbbbbbbh    inet 10.250.0.9/30 scope global bb-bbbbbbbbh',
    ].join('\n');
    const used = usedBlocks(ipOut);
    expect([...used].sort((a, b) => a - b)).toEqual([0, 2]);
    expect(pickBlock(used)?.hostAddr).toBe('10.250.0.5');
    // a /24 in the pool (say a docker bridge) blocks all 64 of its /30s
    expect(usedBlocks('inet 10.250.3.1/24').size).toBe(64);
    // a host on 10/8 blocks only the block holding its own address
    expect([...usedBlocks('inet 10.250.0.77/8')]).toEqual([19]);
    expect(pickBlock(new Set(Array.from({ length: 16384 }, (_, i) => i)))).toBeNull();
  });

  it('firewall: only the sidecar ports on the host end are accepted; everything else and FORWARD dropped', () => {
    const rs = firewallRuleset('bot_bottle_1234abcd', 'bb-1234abcdh', '10.250.0.1', [9099, 9420]);
    expect(rs).toContain('table inet bot_bottle_1234abcd');
    expect(rs).toContain('iifname "bb-1234abcdh" ip daddr 10.250.0.1 tcp dport { 9099, 9420 } accept');
    expect(rs).toMatch(/chain input[\s\S]*iifname "bb-1234abcdh" drop/);
    expect(rs).toMatch(/chain forward[\s\S]*iifname "bb-1234abcdh" drop[\s\S]*oifname "bb-1234abcdh" drop/);
  });

  it('guest /etc: sidecar names map to the host end; no nameserver', () => {
    const f = guestEtcFiles('10.250.0.1');
    expect(f.hosts).toContain('10.250.0.1 egress git-gate supervise');
    expect(f['resolv.conf']).not.toMatch(/nameserver/);
    expect(f.passwd).toContain('node:x:1000:1000');
  });

  it('sandbox argv: bwrap isolation flags, uid 1000 via setpriv, no env values on argv', () => {
    const { command, args } = sandboxArgv({
      tools: { ip: '/sbin/ip', sh: '/bin/sh', mount: '/bin/mount', setpriv: '/usr/bin/setpriv', bwrap: '/usr/bin/bwrap' },
      netns: 'bb-1234abcd', homeDir: '/s/home', etcDir: '/s/run/guest-etc',
      system: [{ kind: 'dir', path: '/usr' }, { kind: 'symlink', path: '/bin', target: 'usr/bin' }],
      cwd: '/home/node', argv: ['claude', '--x'],
    });
    expect(command).toBe('/sbin/ip');
    expect(args.slice(0, 3)).toEqual(['netns', 'exec', 'bb-1234abcd']);
    for (const f of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent', '--new-session']) expect(args).toContain(f);
    expect(args.join(' ')).toContain('--cap-drop ALL --uid 1000 --gid 1000');
    expect(args).toContain('--reuid=1000');
    expect(args.join(' ')).toContain('--ro-bind /usr /usr --symlink usr/bin /bin');
    expect(args.join(' ')).toContain('--tmpfs /tmp');
    expect(args.slice(-3)).toEqual(['--', 'claude', '--x']);
    expect(args.join(' ')).not.toContain('--setenv');
    const withCg = sandboxArgv({
      tools: { ip: '/sbin/ip', sh: '/bin/sh', mount: '/bin/mount', setpriv: '/usr/bin/setpriv', bwrap: '/usr/bin/bwrap' },
      netns: 'bb-1234abcd', homeDir: '/s/home', etcDir: '/s/e', system: [], cwd: '/home/node', argv: ['x'],
      cgroupProcs: ['/sys/fs/cgroup/pids/bot-bottle-1234abcd/cgroup.procs'],
    });
    // cgroups are joined before `ip netns exec` (which remounts /sys)
    expect(withCg.command).toBe('/bin/sh');
    expect(withCg.args.indexOf('/sys/fs/cgroup/pids/bot-bottle-1234abcd/cgroup.procs')).toBeLessThan(withCg.args.indexOf('/sbin/ip'));
  });
});
