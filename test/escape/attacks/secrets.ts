/** Row 11 and F4: what the agent can read, and what its environment looks like from the host. */
import { encodings } from '../fixture.js';
import type { Attack } from '../types.js';
import { kv, pass, sq } from './probe.js';

export const secretAttacks: Attack[] = [
  {
    id: '11',
    title: 'read secrets: printenv, /proc/*/environ, CA key, supervise store, host homes',
    expected: 'none visible',
    async run(ctx) {
      const caKey = ctx.probes.caKeyFile();
      const stateDir = caKey.replace(/\/egress\/ca-key\.pem$/, '');
      const script = [
        'printenv',
        'cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"',
        // Ends with a newline: the lines after it must start lines of their own to be parsed.
        'cat /proc/*/cmdline 2>/dev/null | tr "\\0" " "; echo',
        `for f in ${sq(caKey)} /etc/bot-bottle/egress/ca-key.pem ${sq(`${stateDir}/supervise`)} ${sq(stateDir)} /root/.bot-bottle /root /home/node/.bot-bottle; do if cat "$f" >/dev/null 2>&1 || ls "$f" >/dev/null 2>&1 || { [ -d "$f" ] && [ -r "$f" ] && [ -x "$f" ]; }; then echo "readable=$f"; fi; done`,
        // Globs and test(1), not ls: gVisor 2022-12 answers coreutils' statx with EINVAL, which
        // would hide a readable directory or a host home.
        'for h in /home/* /home/.[!.]*; do { [ -e "$h" ] || [ -L "$h" ]; } && echo "homeentry=${h#/home/}"; done',
        'echo "cacert_present=$(test -r "$CURL_CA_BUNDLE" && echo yes || echo no)"',
      ].join('\n');
      const r = await ctx.sh(script);
      const vals = Object.values(encodings(ctx.fixture.secret));
      const hits = vals.filter((v) => r.stdout.includes(v));
      const readable = r.stdout.split('\n').filter((l) => l.startsWith('readable='));
      const homes = r.stdout.split('\n').filter((l) => l.startsWith('homeentry=')).map((l) => l.slice(10));
      const canaryVisible = r.stdout.includes(ctx.fixture.canary); // by design (the agent's BOT_BOTTLE_CANARY)
      const ok = hits.length === 0 && readable.length === 0 && homes.includes('node') && homes.every((h) => h === 'node') && kv(r).cacert_present === 'yes' && canaryVisible;
      return pass(`secret forms found: ${hits.length}; readable paths: ${readable.map((l) => l.slice(9)).join(',') || 'none'}; /home: ${homes.join(',')}; (control: canary visible in env ${canaryVisible})`, ok);
    },
  },
  {
    id: 'F4',
    title: 'env var `S` and a hostile PATH reach the agent unchanged; no env value in host argv',
    expected: 'sandbox builds; S and PATH unchanged inside; no value in any host /proc/*/cmdline',
    async run(ctx) {
      // Sample the host process table while a sandbox is running.
      const running = ctx.bottle.exec(['/bin/sh', '-c', 'printf "S=%s\\nPATH=%s\\n" "$S" "$PATH"; sleep 3'], { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 1200));
      const argv = ctx.probes.hostArgv();
      const r = await running;
      const env = r.stdout;
      const sOk = env.includes(`S=${ctx.fixture.envS}\n`);
      const pathOk = env.includes(`PATH=${ctx.fixture.hostilePath}\n`);
      const markers = [ctx.fixture.envS, ctx.fixture.hostilePath, ctx.fixture.canary];
      const inArgv = argv.filter((a) => markers.some((m) => a.includes(m)));
      const ok = r.code === 0 && !r.sandboxError && sOk && pathOk && inArgv.length === 0 && argv.length > 0;
      const seen = inArgv.map((a) => a.replace(/\s+/g, ' ').slice(0, 80)).join(' | ');
      return pass(`exec rc=${r.code}${r.sandboxError ? ` (${r.sandboxError})` : ''}; S ${sOk ? 'unchanged' : 'CHANGED'}; PATH ${pathOk ? 'unchanged' : 'CHANGED'}; host argv with an env value: ${inArgv.length}${seen ? ` (${seen})` : ''}`, ok);
    },
  },
];
