/**
 * The pre-receive hook written into `$GIT_GATE_ROOT/hooks/` at startup
 * (docs/decisions/gate-hook-socket.md): a thin client that forwards stdin and the quarantine
 * environment to the daemon over `$GIT_GATE_ROOT/run/hook.sock`, relays the daemon's lines to
 * stderr (the agent sees them as `remote:` lines) and exits with the daemon's code. Plain CommonJS
 * so node runs it without tsx; any failure exits 1, so a missing daemon can only refuse a push,
 * never let one through.
 */
export function hookScript(nodePath: string, socketPath: string): string {
  return `#!${nodePath}
'use strict';
const net = require('net');
const path = require('path');
const SOCK = ${JSON.stringify(socketPath)};
const chunks = [];
function fail(msg) { process.stderr.write('git-gate: ' + msg + '; push refused\\n'); process.exit(1); }
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const cwd = process.cwd();
  const env = {};
  const abs = (p) => path.resolve(cwd, p);
  for (const k of ['GIT_DIR', 'GIT_QUARANTINE_PATH', 'GIT_OBJECT_DIRECTORY']) if (process.env[k]) env[k] = abs(process.env[k]);
  if (process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES) env.GIT_ALTERNATE_OBJECT_DIRECTORIES = process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES.split(':').map(abs).join(':');
  const s = net.createConnection(SOCK);
  let buf = '';
  let code = null;
  s.on('connect', () => s.write(JSON.stringify({ cwd, env, stdin: Buffer.concat(chunks).toString('utf8') }) + '\\n'));
  s.setEncoding('utf8');
  s.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let m;
      try { m = JSON.parse(line); } catch (e) { continue; }
      if (m && typeof m.say === 'string') process.stderr.write(m.say + '\\n');
      if (m && typeof m.exit === 'number') code = m.exit;
    }
  });
  s.on('error', () => fail('internal error: the gate daemon is not answering'));
  s.on('close', () => { if (code === null) fail('internal error: the gate daemon closed the connection'); else process.exit(code); });
});
`;
}
