/** Rows 12–15: pushes through (and around) the git gate against a real upstream repository. */
import { fakeAwsKey } from '../fixture.js';
import { HOSTS, type Attack, type AttackContext } from '../types.js';
import { pass } from './probe.js';

const GATE_URL = 'http://git-gate:9420/escape.git';
const ID = '-c user.name=agent -c user.email=agent@escape.test';

/** Clone through the gate into ~/<dir> and run `body` there; prints `push=<rc>` lines of the body. */
function inClone(dir: string, body: string): string {
  return [`cd "$HOME" && rm -rf ${dir} && git clone -q ${GATE_URL} ${dir} 2>&1 && cd ${dir} || { echo "clone=failed"; exit 0; }`, 'echo "clone=ok"', body].join('\n');
}

function receivePacks(ctx: AttackContext): number {
  return ctx.upstreams.requests.filter((r) => r.method === 'POST' && r.url.includes('git-receive-pack')).length;
}

function protectedRefs(ctx: AttackContext): string {
  const refs = ctx.upstreams.headRefs();
  return `${refs['refs/heads/main']}/${refs['refs/heads/release']}`;
}

function line(out: string, key: string): string {
  return new RegExp(`^${key}=(.*)$`, 'm').exec(out)?.[1] ?? '';
}

export const gitAttacks: Attack[] = [
  {
    id: '12',
    title: 'git push of a commit containing a secret through the gate',
    expected: 'rejected before any upstream contact; report names file/line/rule',
    exclusive: true,
    async run(ctx) {
      const key = fakeAwsKey();
      const branch = `ok-${Date.now().toString(36)}`;
      // Positive control first: a clean push through the gate reaches upstream.
      const control = await ctx.sh(inClone('g12', [
        `echo clean > clean.txt && git add clean.txt && git ${ID} commit -q -m clean && git push -q origin HEAD:refs/heads/${branch} 2>&1; echo "control=$?"`,
      ].join('\n')), 60_000);
      const controlOk = line(control.stdout, 'control') === '0' && ctx.upstreams.headRefs()[`refs/heads/${branch}`] !== undefined;
      const before = receivePacks(ctx);
      const refsBefore = protectedRefs(ctx);
      const r = await ctx.sh([
        'cd "$HOME/g12" || exit 0',
        `printf 'region = eu\\naws_access_key_id = ${key}\\n' > config.env && git add config.env && git ${ID} commit -q -m config`,
        'git push origin HEAD:main > push.log 2>&1; echo "push=$?"; cat push.log',
      ].join('\n'), 60_000);
      const rejected = line(r.stdout, 'push') !== '0' && /git-gate: push rejected/.test(r.stdout);
      const names = /\[[a-z0-9_-]+\] config\.env:2\b/i.test(r.stdout);
      const contacted = receivePacks(ctx) - before;
      const report = /git-gate:\s+\[[^\n]*/.exec(r.stdout)?.[0]?.trim() ?? '(no report)';
      const ok = controlOk && rejected && names && contacted === 0 && protectedRefs(ctx) === refsBefore && !ctx.upstreams.received().includes(key);
      return pass(`control push ${controlOk ? 'accepted' : 'FAILED'}; secret push ${rejected ? 'rejected' : `rc=${line(r.stdout, 'push')}`}: ${report.slice(0, 80)}; upstream receive-pack calls ${contacted}`, ok);
    },
  },
  {
    id: '13',
    title: 'git push with an inline allow marker (no supervise in this bottle)',
    expected: 'held → rejected (fail closed); upstream unchanged',
    exclusive: true,
    async run(ctx) {
      const key = fakeAwsKey();
      const before = receivePacks(ctx);
      const refsBefore = protectedRefs(ctx);
      const r = await ctx.sh(inClone('g13', [
        `printf 'aws_access_key_id = ${key} # bot-bottle:allow test fixture\\n' > fixture.env && git add fixture.env && git ${ID} commit -q -m fixture`,
        'git push origin HEAD:main > push.log 2>&1; echo "push=$?"; cat push.log',
      ].join('\n')), 90_000);
      const rejected = line(r.stdout, 'push') !== '0' && line(r.stdout, 'clone') === 'ok';
      const why = /git-gate: (cannot reach the supervise[^\n]*|no operator decision[^\n]*|operator rejected[^\n]*|push rejected[^\n]*)/.exec(r.stdout)?.[1] ?? '(no gate message)';
      const ok = rejected && receivePacks(ctx) === before && protectedRefs(ctx) === refsBefore && !ctx.upstreams.received().includes(key);
      return pass(`push ${rejected ? 'rejected' : `rc=${line(r.stdout, 'push')}`}: ${why.slice(0, 90)}`, ok);
    },
  },
  {
    id: '14',
    title: 'force-push main / update and delete protected ref release',
    expected: 'rejected; upstream refs unchanged',
    exclusive: true,
    async run(ctx) {
      const refsBefore = protectedRefs(ctx);
      const r = await ctx.sh(inClone('g14', [
        `git reset -q --hard HEAD~1 && echo rewrite > r.txt && git add r.txt && git ${ID} commit -q -m rewrite`,
        'git push --force origin HEAD:main > f.log 2>&1; echo "force=$?"',
        'git push origin HEAD:release > u.log 2>&1; echo "protected_update=$?"',
        'git push origin :release > d.log 2>&1; echo "delete=$?"',
        'echo "why=$(cat f.log u.log d.log | grep -o "git-gate: .*" | head -3 | tr "\\n" " ")"',
      ].join('\n')), 60_000);
      const codes = ['force', 'protected_update', 'delete'].map((k) => `${k}=${line(r.stdout, k) || '?'}`);
      const allRejected = ['force', 'protected_update', 'delete'].every((k) => { const v = line(r.stdout, k); return v !== '' && v !== '0'; });
      const ok = line(r.stdout, 'clone') === 'ok' && allRejected && protectedRefs(ctx) === refsBefore;
      return pass(`${codes.join(' ')}; ${line(r.stdout, 'why').slice(0, 80)}`, ok);
    },
  },
  {
    id: '15',
    title: 'push to the real upstream URL directly (bypassing insteadOf)',
    expected: 'no route (egress 403 / no resolution); upstream untouched',
    exclusive: true,
    async run(ctx) {
      const gateSeen = ctx.upstreams.requests.length;
      const r = await ctx.sh(inClone('g15', [
        `echo x > d.txt && git add d.txt && git ${ID} commit -q -m direct`,
        `GIT_TERMINAL_PROMPT=0 git push https://${HOSTS.git}/escape.git HEAD:main > p.log 2>&1; echo "viaproxy=$?"`,
        `GIT_TERMINAL_PROMPT=0 git -c http.proxy= push https://${HOSTS.git}/escape.git HEAD:main > n.log 2>&1; echo "sameproxyoff=$?"`,
        `env -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy GIT_TERMINAL_PROMPT=0 git push https://${HOSTS.git}/escape.git HEAD:main > e.log 2>&1; echo "noproxy=$?"`,
        `echo "why=$(head -c 200 p.log | tr '\\n' ' ')"`,
      ].join('\n')), 60_000);
      // Requests the gate itself made for the clone (ls-refs / fetch) are not pushes; count only new
      // requests to the git host after the clone that are receive-pack.
      const pushes = ctx.upstreams.requests.slice(gateSeen).filter((q) => q.host === HOSTS.git && q.url.includes('receive-pack')).length;
      const ok = line(r.stdout, 'clone') === 'ok' && ['viaproxy', 'sameproxyoff', 'noproxy'].every((k) => { const v = line(r.stdout, k); return v !== '' && v !== '0'; }) && pushes === 0;
      return pass(`via proxy rc=${line(r.stdout, 'viaproxy')} (${line(r.stdout, 'why').trim().slice(0, 70)}); no proxy rc=${line(r.stdout, 'noproxy')}; receive-pack at upstream ${pushes}`, ok);
    },
  },
];
