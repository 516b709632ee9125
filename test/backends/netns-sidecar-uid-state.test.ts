/**
 * prepareSidecarState on a real directory (docs/decisions/netns-sidecar-uid.md): a state dir left
 * by an earlier run (another sidecar uid, as after `resume`) is handed to the new uid; root-only
 * files stay unreadable to it; nothing is followed through a link and a file of a foreign owner
 * planted in its own tree is left alone.
 */
import { chownSync, linkSync, lstatSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { prepareSidecarState } from '../../src/backends/netns/sidecar-state.js';
import { SIDECAR_UID_BASE } from '../../src/backends/netns/sidecar-user.js';
import { tempHome } from './helpers/plan.js';

const OLD = SIDECAR_UID_BASE + 11;
const NEW = SIDECAR_UID_BASE + 12;
const own = (p: string) => `${lstatSync(p).uid}:${lstatSync(p).gid}`;
const mode = (p: string) => (lstatSync(p).mode & 0o7777).toString(8);

describe.skipIf(skipReason('root'))('sidecar state ownership', () => {
  const home = tempHome();
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('hands the writable entries to the new uid, shares the read trees by group, touches nothing else', () => {
    const s = join(home, 'state', 'x');
    for (const d of ['egress', 'live-config', 'git-gate/keys', 'git-gate/repos/r.git/objects', 'logs', 'run/guest-etc', 'home', 'provider']) mkdirSync(join(s, d), { recursive: true, mode: 0o700 });
    writeFileSync(join(s, 'egress/ca-key.pem'), 'k', { mode: 0o600 });
    writeFileSync(join(s, 'git-gate/keys/deploy'), 'k', { mode: 0o600 });
    writeFileSync(join(s, 'metadata.json'), '{}', { mode: 0o600 });
    writeFileSync(join(s, 'provider/settings.json'), '{}', { mode: 0o600 });
    writeFileSync(join(s, 'logs/agent.log'), '', { mode: 0o600 });
    // what the previous sidecar uid left: its mirror, its audit file
    writeFileSync(join(s, 'git-gate/repos/r.git/objects/o'), 'obj', { mode: 0o444 });
    writeFileSync(join(s, 'logs/egress-audit.jsonl'), '{}\n', { mode: 0o600 });
    for (const p of ['git-gate/repos', 'git-gate/repos/r.git', 'git-gate/repos/r.git/objects', 'git-gate/repos/r.git/objects/o', 'logs/egress-audit.jsonl']) chownSync(join(s, p), OLD, OLD);
    // planted by the old uid in its tree: a hard link to a file of another owner, a link out
    const foreign = join(home, 'foreign');
    writeFileSync(foreign, 'x', { mode: 0o644 });
    chownSync(foreign, 1000, 1000);
    linkSync(foreign, join(s, 'git-gate/repos/hard'));
    const rootFile = join(home, 'root-file');
    writeFileSync(rootFile, 'secret', { mode: 0o600 });
    linkSync(rootFile, join(s, 'git-gate/repos/hard-root'));
    symlinkSync(join(s, 'metadata.json'), join(s, 'git-gate/repos/link'));

    prepareSidecarState(s, NEW);

    expect(own(s)).toBe(`0:${NEW}`);
    expect(mode(s)).toBe('750');
    for (const p of ['egress', 'live-config', 'git-gate', 'git-gate/keys', 'logs', 'run']) {
      expect(own(join(s, p)), p).toBe(`0:${NEW}`);
      expect(mode(join(s, p)), p).toBe('750');
    }
    for (const p of ['egress/ca-key.pem', 'git-gate/keys/deploy']) {
      expect(own(join(s, p)), p).toBe(`0:${NEW}`);
      expect(mode(join(s, p)), p).toBe('640');
    }
    for (const p of ['git-gate/repos', 'git-gate/repos/r.git/objects/o', 'git-gate/run', 'git-gate/hooks', 'logs/egress-audit.jsonl', 'logs/git-gate-audit.jsonl']) {
      expect(own(join(s, p)), p).toBe(`${NEW}:${NEW}`);
    }
    // untouched: root-only files and dirs, the agent's home, guest-etc, the planted links' targets
    for (const p of ['metadata.json', 'provider', 'provider/settings.json', 'logs/agent.log', 'home', 'run/guest-etc']) {
      expect(own(join(s, p)), p).toBe('0:0');
    }
    expect(mode(join(s, 'metadata.json'))).toBe('600');
    expect(`${statSync(foreign).uid}:${statSync(foreign).gid}`).toBe('1000:1000');
    expect(`${statSync(rootFile).uid}:${statSync(rootFile).gid}`).toBe('0:0');
    expect(own(join(s, 'git-gate/repos/link'))).toBe(`${NEW}:${NEW}`); // the link itself (lchown), not its target
  });

  it('refuses to take over an audit file that is a link', () => {
    const s = join(home, 'state', 'y');
    mkdirSync(join(s, 'logs'), { recursive: true });
    symlinkSync('/etc/hostname', join(s, 'logs', 'egress-audit.jsonl'));
    expect(() => prepareSidecarState(s, NEW)).toThrow(/ELOOP/);
    expect(statSync('/etc/hostname').uid).toBe(0);
  });
});
