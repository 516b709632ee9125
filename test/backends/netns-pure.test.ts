import { describe, expect, it } from 'vitest';
import { blockAt, pickBlock, usedBlocks } from '../../src/backends/netns/alloc.js';
import { firewallRuleset, openPortsCommand, PORT_SET } from '../../src/backends/netns/firewall.js';
import { SIDECAR_MOUNT, sidecarStaging, STAGE_NAME, STAGE_SCRIPT } from '../../src/backends/netns/sidecar-staging.js';
import { busyBlockIndexes, isSidecarUid, passwdUids, SIDECAR_UID_BASE, SIDECAR_UID_COUNT, sidecarUidFor, statusUids } from '../../src/backends/netns/sidecar-user.js';
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

  it('firewall: an empty port set at creation; only the veth (or root/own-uid local sockets) reach the host end; FORWARD dropped', () => {
    const rs = firewallRuleset('bot_bottle_1234abcd', 'bb-1234abcdh', '10.250.0.1', 1900000007);
    expect(rs).toContain('table inet bot_bottle_1234abcd');
    // the set is declared without elements: nothing is open until daemons report ready
    expect(rs).toMatch(new RegExp(`set ${PORT_SET} \\{\\s*type inet_service;\\s*\\}`));
    expect(rs).not.toMatch(/elements|9099|9420|9100/);
    expect(rs).toContain(`iifname "bb-1234abcdh" ip daddr 10.250.0.1 tcp dport @${PORT_SET} accept`);
    expect(rs).toMatch(/chain input[\s\S]*accept\n\s*iifname "bb-1234abcdh" drop\n\s*iifname != "lo" ip daddr 10.250.0.1 drop/);
    expect(rs).toMatch(/chain output \{\s*type filter hook output[^\n]*\n\s*ip daddr 10.250.0.1 meta skuid != 0 meta skuid != 1900000007 drop/);
    expect(rs).toMatch(/chain output[^}]*oifname "bb-1234abcdh" meta skuid != 0 meta skuid != 1900000007 drop/);
    expect(rs).toMatch(/chain forward[\s\S]*iifname "bb-1234abcdh" drop[\s\S]*oifname "bb-1234abcdh" drop/);
    expect(openPortsCommand('bot_bottle_1234abcd', [9420, 9099, 9099])).toBe(`add element inet bot_bottle_1234abcd ${PORT_SET} { 9099, 9420 }\n`);
    expect(openPortsCommand('bot_bottle_1234abcd', [])).toBe('');
  });

  it('sidecar uid: one per /30 block, above every conventional range, busy uids block their block', () => {
    expect(sidecarUidFor(0)).toBe(SIDECAR_UID_BASE);
    expect(sidecarUidFor(16383)).toBe(SIDECAR_UID_BASE + 16383);
    expect(() => sidecarUidFor(16384)).toThrow(RangeError);
    expect(SIDECAR_UID_BASE).toBeGreaterThan(0x6fffffff); // above systemd-nspawn's container range
    expect(SIDECAR_UID_BASE + SIDECAR_UID_COUNT).toBeLessThan(0x7ffe0000); // below systemd's transient ranges
    expect(isSidecarUid(1000)).toBe(false);
    expect(isSidecarUid(SIDECAR_UID_BASE + 5)).toBe(true);
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nodd:x:1900000003:1900000003::/:/bin/false\n# comment\n';
    expect(passwdUids(passwd)).toEqual([0, 1900000003]);
    expect([...busyBlockIndexes([0, 1000, 1900000003, 1900000009])].sort((a, b) => a - b)).toEqual([3, 9]);
    expect(statusUids('Name:\tx\nUid:\t1\t2\t3\t4\nGid:\t0\t0\t0\t0\n')).toEqual([1, 2, 3, 4]);
  });

  it('sidecar staging: mount namespace + setpriv before the supervisor; state paths and CA files rewritten; HOME owned', () => {
    const st = sidecarStaging({
      tools: { unshare: '/usr/bin/unshare', mount: '/bin/mount', setpriv: '/usr/bin/setpriv', sh: '/bin/sh' },
      uid: 1900000002,
      stateDir: '/root/.bot-bottle/state/s1/',
      self: { pkgRoot: '/opt/bb', node: '/root/.nvm/bin/node', main: '/opt/bb/dist/cli/main.js' },
      env: { BOT_BOTTLE_SLUG: 's1', EGRESS_UPSTREAM_CA_FILE: '/tmp/x/ca.pem', EGRESS_ROUTES: '/root/.bot-bottle/state/s1/live-config/routes.yaml', EGRESS_RESOLVE: 'a=127.0.0.1' },
    });
    expect(st.prefix.slice(0, 5)).toEqual(['/usr/bin/unshare', '--mount', '--propagation', 'private', '--']);
    expect(st.prefix.slice(5, 8)).toEqual(['/bin/sh', '-c', STAGE_SCRIPT]);
    expect(st.prefix.slice(8, 15)).toEqual([STAGE_NAME, SIDECAR_MOUNT, '1900000002', '/root/.bot-bottle/state/s1', '/opt/bb', '/root/.nvm/bin/node', '/bin/mount']);
    expect(st.prefix.slice(15, 18)).toEqual(['/tmp/x/ca.pem', '0', '--']);
    expect(st.prefix.slice(18)).toEqual(['/usr/bin/setpriv', '--reuid=1900000002', '--regid=1900000002', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--']);
    expect(st.configDir).toBe(`${SIDECAR_MOUNT}/state`);
    expect(st.self).toEqual({ command: `${SIDECAR_MOUNT}/node`, args: [`${SIDECAR_MOUNT}/pkg/dist/cli/main.js`] });
    expect(st.env).toEqual({
      BOT_BOTTLE_SLUG: 's1', EGRESS_UPSTREAM_CA_FILE: `${SIDECAR_MOUNT}/files/0`, EGRESS_ROUTES: `${SIDECAR_MOUNT}/state/live-config/routes.yaml`,
      EGRESS_RESOLVE: 'a=127.0.0.1', HOME: `${SIDECAR_MOUNT}/home`,
    });
    // a stand-in command is kept as is (no package staging), still behind the uid drop
    const standin = sidecarStaging({ tools: { unshare: 'u', mount: 'm', setpriv: 's', sh: 'sh' }, uid: 1900000000, stateDir: '/s', self: null, env: {} });
    expect(standin.self).toBeNull();
    expect(standin.prefix.slice(12, 14)).toEqual(['', '']);
    expect(standin.prefix).toContain('--reuid=1900000000');
  });

  it('guest /etc: sidecar names map to the host end; no nameserver', () => {
    const f = guestEtcFiles('10.250.0.1');
    expect(f.hosts).toContain('10.250.0.1 egress git-gate supervise');
    expect(f['resolv.conf']).not.toMatch(/nameserver/);
    expect(f.passwd).toContain('node:x:1000:1000');
  });

  it('sandbox argv: helpers by absolute path, uid 1000 via setpriv; bwrap options, env and filter only on the fds', () => {
    const tools = { ip: '/sbin/ip', sh: '/bin/sh', mount: '/bin/mount', setpriv: '/usr/bin/setpriv', bwrap: '/usr/bin/bwrap' };
    const seccomp = new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]);
    const { command, args, bwrapArgs, seccomp: filter } = sandboxArgv({
      tools, netns: 'bb-1234abcd', homeDir: '/s/home', etcDir: '/s/run/guest-etc',
      system: [{ kind: 'dir', path: '/usr' }, { kind: 'symlink', path: '/bin', target: 'usr/bin' }],
      cwd: '/home/node', argv: ['claude', '--x'],
      env: { S: '/evil', PATH: '/tmp/evil', TOKEN: 'marker-value-91b2', 'WITH SPACE': 'a b' },
      seccomp,
    });
    expect(command).toBe('/sbin/ip');
    expect(args.slice(0, 3)).toEqual(['netns', 'exec', 'bb-1234abcd']);
    expect(args).toContain('--reuid=1000');
    // on argv: the helpers, bwrap reading fd 3, then the command; nothing else of bwrap's
    expect(args.slice(args.indexOf('/usr/bin/bwrap'))).toEqual(['/usr/bin/bwrap', '--args', '3', '--', 'claude', '--x']);
    expect(args.join(' ')).not.toMatch(/marker-value|--setenv|--ro-bind|--seccomp|\/tmp\/evil/);
    const opts = new TextDecoder().decode(bwrapArgs).split('\0');
    expect(opts.pop()).toBe(''); // NUL-terminated
    const joined = opts.join(' ');
    for (const f of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--disable-userns', '--die-with-parent', '--new-session']) expect(opts).toContain(f);
    expect(joined).toContain('--cap-drop ALL --uid 1000 --gid 1000');
    expect(joined).toContain('--ro-bind /usr /usr --symlink usr/bin /bin');
    expect(joined).toContain('--tmpfs /tmp');
    expect(joined).toContain('--chdir /home/node --clearenv');
    expect(joined).toContain('--setenv TOKEN marker-value-91b2');
    expect(opts.slice(opts.indexOf('WITH SPACE') - 1, opts.indexOf('WITH SPACE') + 2)).toEqual(['--setenv', 'WITH SPACE', 'a b']);
    expect(joined.indexOf('--clearenv')).toBeLessThan(joined.indexOf('--setenv'));
    expect(opts.slice(-2)).toEqual(['--seccomp', '4']);
    expect(filter).toBe(seccomp);
    // values are never echoed in errors
    expect(() => sandboxArgv({ tools, netns: 'n', homeDir: '/h', etcDir: '/e', system: [], cwd: '/', argv: ['x'], env: { K: 'secret\0x' }, seccomp })).toThrow(/^agent environment variable K contains a NUL byte$/);
    expect(() => sandboxArgv({ tools, netns: 'n', homeDir: '/h', etcDir: '/e', system: [], cwd: '/', argv: ['x'], env: { 'A=B': 'v' }, seccomp })).toThrow(/name "A=B" cannot be set/);
    const withCg = sandboxArgv({
      tools, netns: 'bb-1234abcd', homeDir: '/s/home', etcDir: '/s/e', system: [], cwd: '/home/node', argv: ['x'], env: {}, seccomp,
      cgroupProcs: ['/sys/fs/cgroup/pids/bot-bottle-1234abcd/cgroup.procs'],
    });
    // cgroups are joined before `ip netns exec` (which remounts /sys)
    expect(withCg.command).toBe('/bin/sh');
    expect(withCg.args.indexOf('/sys/fs/cgroup/pids/bot-bottle-1234abcd/cgroup.procs')).toBeLessThan(withCg.args.indexOf('/sbin/ip'));
  });
});
