/**
 * The per-bottle nftables table against the real kernel (docs/decisions/netns-firewall.md), with
 * the real sidecar bundle: only the ports of daemons that reported ready are open to the agent
 * (here supervise is not selected, so 9100 stays closed even with a stray listener behind it; the
 * full set is in test/supervise/mcp-netns.test.ts), and the bottle's egress and git gate answer nobody but the agent and root —
 * not another local user, not a "container" or LAN neighbour in a network namespace of its own.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import { PORT_SET } from '../../src/backends/netns/firewall.js';
import { namesFor } from '../../src/backends/netns/names.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { routesFor, writeRealState } from '../launch/real-state.js';
import { leftovers } from './helpers/leftovers.js';
import { makePlan, tempHome } from './helpers/plan.js';

const SETPRIV = '/usr/bin/setpriv';

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => {
      c.on('error', () => undefined);
      c.setTimeout(2000, () => c.destroy());
      c.end('HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
}
const portOf = (s: Server) => (s.address() as { port: number }).port;
const close = (s: Server) => new Promise<void>((r) => {
  s.close(() => r());
  setTimeout(r, 3000).unref();
});

/** curl's `%{http_code}` for `url` (000 = no HTTP answer) run through `prefix`; async: the listeners live in this process. */
function code(prefix: string[], url: string): Promise<string> {
  const argv = [...prefix, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', url];
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { encoding: 'utf8' }, (_err, stdout) => resolve(stdout.trim()));
  });
}

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'curl', 'netns'))('netns firewall on a real bottle', () => {
  const home = tempHome();
  const servers: Server[] = [];
  const nb = `bbtfw${randomBytes(3).toString('hex')}`; // not bb-<8 hex>: never taken for a bottle by cleanup
  afterAll(async () => {
    for (const s of servers) await close(s);
    spawnSync('ip', ['netns', 'del', nb]);
    spawnSync('ip', ['link', 'del', `${nb}h`]);
    rmSync(home, { recursive: true, force: true });
  });

  it('opens only the ready daemons; the host end answers the agent and root only', async () => {
    const slug = `fw-${Math.random().toString(36).slice(2, 7)}`;
    // supervise is not selected: nothing of ours serves 9100
    const plan = makePlan(home, slug, { daemons: ['egress', 'git-gate'] });
    await writeRealState(plan, routesFor(slug, 'api.bot-bottle.test', 443));
    const b = (await createNetnsBackend().launch(plan, { EGRESS_TOKEN_0: 'marker-fw-1', EGRESS_TOKEN_CANARY: 'marker-fw-c' }, { onProgress: () => undefined })) as NetnsBottle;
    const h = b.hostAddr;
    try {
      const set = execFileSync('nft', ['list', 'set', 'inet', namesFor(slug).table, PORT_SET], { encoding: 'utf8' });
      expect(set).toMatch(/elements = \{ 9099, 9420 \}/);
      expect(set).not.toContain('9100');

      // Something listens on the host end's 9100 (as a stray host service would): root reaches it
      // over lo, the agent does not.
      servers.push(await listen(h, 9100));
      expect(await code([], `http://${h}:9100/`)).toBe('200');
      const agent = (url: string) => b.exec(['curl', '-s', '--noproxy', '*', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', url]).then((r) => r.stdout.trim());
      expect(await agent(`http://${h}:9100/`)).toBe('000');
      // the served ports still answer the agent (any HTTP status: a sidecar answered)
      expect(await agent(`http://${h}:9099/`)).toMatch(/^[1-5]\d\d$/);
      expect(await agent(`http://${h}:9420/`)).toMatch(/^[1-5]\d\d$/);
      // root on the host (the launcher, `list active`'s probe) still reaches them
      expect(await code([], `http://${h}:9420/`)).toMatch(/^[1-5]\d\d$/);

      // Another local user: loopback works for it (sanity), the bottle's sidecars do not.
      const loop = await listen('127.0.0.1', 0);
      servers.push(loop);
      const nobody = [SETPRIV, '--reuid=65534', '--regid=65534', '--clear-groups', '--'];
      expect(await code(nobody, `http://127.0.0.1:${portOf(loop)}/`)).toBe('200');
      expect(await code(nobody, `http://${h}:9099/`)).toBe('000');
      expect(await code(nobody, `http://${h}:9420/`)).toBe('000');
      expect(await code(nobody, `http://${h}:9100/`)).toBe('000');

      // Nor does it send anything into the bottle (the input chain already drops every reply
      // from the veth, so only one-way datagrams could pass): the agent hears root, not nobody.
      const heard = b.exec(['node', '-e', `const s = require('dgram').createSocket('udp4'); s.on('message', (m) => console.log(String(m))); s.bind(8080); setTimeout(() => process.exit(0), 4000)`]);
      await new Promise((r) => setTimeout(r, 1500));
      const send = (prefix: string[], text: string) =>
        new Promise<void>((resolve) => {
          const argv = [...prefix, process.execPath, '-e', `const s = require('dgram').createSocket('udp4'); s.send('${text}', 8080, '${b.guestAddr}', () => s.close())`];
          execFile(argv[0]!, argv.slice(1), () => resolve());
        });
      await send([], 'from-root');
      await send(nobody, 'from-nobody');
      const got = (await heard).stdout;
      expect(got).toContain('from-root');
      expect(got).not.toContain('from-nobody');

      // A neighbour in its own network namespace (a container, a LAN host) routed to the pool via
      // the host: it reaches the host's own address on its link (sanity), not the bottle's.
      const o3 = 16 + Math.floor(Math.random() * 200);
      const hostNb = `172.31.${o3}.1`;
      const sh = (args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
      sh(['netns', 'add', nb]);
      sh(['link', 'add', `${nb}h`, 'type', 'veth', 'peer', 'name', `${nb}g`, 'netns', nb]);
      sh(['addr', 'add', `${hostNb}/30`, 'dev', `${nb}h`]);
      sh(['link', 'set', `${nb}h`, 'up']);
      sh(['-n', nb, 'addr', 'add', `172.31.${o3}.2/30`, 'dev', `${nb}g`]);
      sh(['-n', nb, 'link', 'set', `${nb}g`, 'up']);
      sh(['-n', nb, 'link', 'set', 'lo', 'up']);
      sh(['-n', nb, 'route', 'add', '10.250.0.0/16', 'via', hostNb]);
      const onLink = await listen(hostNb, 0);
      servers.push(onLink);
      const neighbour = ['ip', 'netns', 'exec', nb];
      expect(await code(neighbour, `http://${hostNb}:${portOf(onLink)}/`)).toBe('200');
      expect(await code(neighbour, `http://${h}:9099/`)).toBe('000');
      expect(await code(neighbour, `http://${h}:9420/`)).toBe('000');
      expect(await code(neighbour, `http://${h}:9100/`)).toBe('000');
    } finally {
      await b.close();
    }
    expect(leftovers(slug)).toEqual([]);
  }, 120_000);
});
