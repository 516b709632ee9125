/** The CLI closes descriptors it inherited without close-on-exec, so none reaches a bottle. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../src/cli/inherited-fds.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));

// Lists the fds a grandchild sees, after (or without) closeInheritedFds in the middle process.
const PROBE = (close: boolean) =>
  `import(${JSON.stringify(MODULE)}).then((m) => { const closed = ${close} ? m.closeInheritedFds() : []; ` +
  `const ls = require('node:child_process').execFileSync('ls', ['/proc/self/fd'], { encoding: 'utf8' }); ` +
  `process.stdout.write(JSON.stringify({ closed, child: ls.split('\\n').filter(Boolean).map(Number) })); });`;

function run(close: boolean): { closed: number[]; child: number[] } {
  // bash leaves 251 and 7 open without close-on-exec, as a harness or multiplexer would.
  const r = spawnSync('bash', ['-c', `exec 251</etc/hostname 7</etc/hostname; exec "$0" --import "$1" --input-type=commonjs -e "$2"`, process.execPath, TSX, PROBE(close)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { closed: number[]; child: number[] };
}

describe('inherited descriptors', () => {
  it('without the close, a high inherited fd reaches the CLI\'s children (positive control)', () => {
    expect(run(false).child).toContain(251);
  });

  it('closeInheritedFds closes it; children see only their stdio (and their own listing fd)', () => {
    const r = run(true);
    expect(r.closed).toContain(251);
    expect(r.child).not.toContain(251);
    expect(r.child).not.toContain(7);
    expect(r.child.filter((fd) => fd > 3)).toEqual([]);
  });
});
