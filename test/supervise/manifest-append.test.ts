/**
 * `--remember file` planning (src/supervise/host/manifest-append.ts) on real files in a temp home:
 * what is written, what is kept, and every refusal leaves the file unchanged.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoutesFileRoute } from '../../src/egress/routes-file-types.js';
import { indexManifests, loadBottles } from '../../src/manifest/loader.js';
import { planManifestAppend, writeManifestAppend } from '../../src/supervise/host/manifest-append.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

const PYPI: RoutesFileRoute[] = [{ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['GET'] }] }];

function home(files: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), 'bb-mapp-'));
  const h = join(root, 'home');
  mkdirSync(join(h, 'bottles'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(h, 'bottles', `${name}.md`), text);
  return h;
}
const plan = (h: string, names = ['dev'], routes = PYPI) => planManifestAppend({ home: h, cwd: root, bottleNames: names, routes, userHome: root });
const hosts = (h: string) => loadBottles(indexManifests({ home: h, cwd: root, userHome: root }), ['dev']).config.egress.routes.map((r) => r.route.host);

describe('manifest append', () => {
  it('writes into `egress:` with no value, and into a file without front matter (the body kept)', () => {
    const h = home({ dev: '---\n# empty egress\negress:\n---\nbody\n' });
    writeManifestAppend(plan(h));
    expect(readFileSync(join(h, 'bottles/dev.md'), 'utf8')).toMatch(/^---\n# empty egress\negress:\n {2}routes:\n {4}- host: pypi\.org/);
    expect(hosts(h)).toEqual(['pypi.org']);
    const h2 = home({ dev: 'Just notes, no front matter.\n' });
    writeManifestAppend(plan(h2));
    const text = readFileSync(join(h2, 'bottles/dev.md'), 'utf8');
    expect(text.endsWith('---\nJust notes, no front matter.\n')).toBe(true);
    expect(hosts(h2)).toEqual(['pypi.org']);
  });

  it('refuses a host the file already routes (in any spelling), a file that does not load, no bottle file, CRLF', () => {
    const h = home({ dev: '---\negress:\n  routes:\n    - host: PyPI.org.\n---\n', broken: '---\negress:\n  routez: []\n---\n', crlf: '---\r\negress: {}\r\n---\r\n' });
    const before = readFileSync(join(h, 'bottles/dev.md'), 'utf8');
    expect(() => plan(h)).toThrow(/already has a route for pypi\.org; edit it by hand/);
    expect(() => plan(h, ['broken'])).toThrow(/does not load now/);
    expect(() => plan(h, [])).toThrow(/launched without a bottle file/);
    expect(() => plan(h, ['nope'])).toThrow(/bottle file "nope" was not found/);
    expect(() => plan(h, ['crlf'])).toThrow(/CRLF/);
    expect(readFileSync(join(h, 'bottles/dev.md'), 'utf8')).toBe(before);
  });

  it('a file changed between planning and writing is not overwritten', () => {
    const h = home({ dev: '---\negress: {routes: []}\n---\n' });
    const p = plan(h);
    writeFileSync(join(h, 'bottles/dev.md'), '---\n# edited meanwhile\n---\n');
    expect(() => writeManifestAppend(p)).toThrow(/changed while approving/);
    expect(readFileSync(join(h, 'bottles/dev.md'), 'utf8')).toBe('---\n# edited meanwhile\n---\n');
  });

  it('extends: a child that inherits its routes is refused (its own routes would replace them); one with its own routes gets the route', () => {
    const parent = '---\negress:\n  routes:\n    - host: api.github.com\n---\n';
    const child = '---\nextends: base\negress:\n  log: 1\n---\n';
    const h = home({ base: parent, dev: child });
    expect(() => plan(h)).toThrow(/^bottle "dev" inherits its routes from base; adding routes to it would replace them, so which file to change is ambiguous$/);
    expect(readFileSync(join(h, 'bottles/dev.md'), 'utf8')).toBe(child);
    const h2 = home({ base: parent, dev: '---\nextends: base\negress:\n  routes:\n    - host: example.com\n---\n' });
    writeManifestAppend(plan(h2));
    expect(readFileSync(join(h2, 'bottles/base.md'), 'utf8')).toBe(parent);
    expect(hosts(h2)).toEqual(['example.com', 'pypi.org']);
  });
});
