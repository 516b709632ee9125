/**
 * netns writes the bottle CA and its bundle into the guest home itself while the sidecars start
 * (src/launch/ca-bundle.ts), so provisioning needs no sandboxed exec for it; and it does so as root
 * in a directory a previous run of the agent controlled, so a planted symlink is replaced, never
 * followed.
 */
import { lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { createBottleCa, writeBottleCa } from '../../src/egress/ca.js';
import { caBundleText, systemRoots } from '../../src/launch/ca-bundle.js';
import { provision } from '../../src/launch/provision.js';
import { GUEST_UID } from '../../src/plan/bottle-plan.js';
import { makePlan, standinCommand, tempHome } from './helpers/plan.js';

const skip = skipReason('root', 'bwrap', 'nft', 'ip');
const rnd = () => Math.random().toString(36).slice(2, 8);

describe.skipIf(skip)('netns: the bottle CA is trusted without a provisioning exec', () => {
  const home = tempHome();
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('writes the CA and the system-roots bundle into the home, owned by the agent; a planted symlink is replaced, its target untouched', async () => {
    const slug = `ca-${rnd()}`;
    const plan = makePlan(home, slug);
    await writeBottleCa(join(plan.stateDir, 'egress'), await createBottleCa(slug, new Date()));
    const caPem = readFileSync(plan.ca.hostCertPath, 'utf8');
    // What a previous run of the agent could have left in its home (a resume): a link to a host file.
    const victim = join(home, 'host-file');
    writeFileSync(victim, 'host file, not the agent\'s\n', { mode: 0o644 });
    const homeDir = join(plan.stateDir, 'home');
    mkdirSync(homeDir, { recursive: true });
    symlinkSync(victim, join(homeDir, '.bot-bottle-ca-bundle.pem'));

    const b = (await createNetnsBackend({ sidecarCommand: standinCommand }).launch(plan, { EGRESS_TOKEN_CANARY: 'marker-ca-canary-1234abcd' }, { onProgress: () => undefined })) as NetnsBottle;
    try {
      expect(b.caTrusted).toBe(true);
      expect(readFileSync(victim, 'utf8')).toBe('host file, not the agent\'s\n');
      const bundlePath = join(homeDir, '.bot-bottle-ca-bundle.pem');
      expect(lstatSync(bundlePath).isSymbolicLink()).toBe(false);
      const roots = systemRoots((f) => readFileSync(f, 'utf8'));
      expect(readFileSync(bundlePath, 'utf8')).toBe(caBundleText(roots, caPem));
      expect(readFileSync(join(homeDir, '.bot-bottle-ca.pem'), 'utf8')).toBe(caPem);
      for (const f of ['.bot-bottle-ca.pem', '.bot-bottle-ca-bundle.pem']) {
        const st = statSync(join(homeDir, f));
        expect(st.uid).toBe(GUEST_UID);
        expect(st.mode & 0o777).toBe(0o644);
      }

      // Provisioning runs no ca-trust exec (no sandbox built for it) and the agent sees the files.
      const execs: string[][] = [];
      const exec = b.exec.bind(b);
      b.exec = (argv, opts) => (execs.push([...argv]), exec(argv, opts));
      await provision(plan, b, () => undefined, () => undefined);
      expect(execs.filter((a) => a.includes('ca-trust'))).toEqual([]);
      const seen = await exec(['/bin/sh', '-c', 'tail -c 200 "$HOME/.bot-bottle-ca-bundle.pem"']);
      expect(seen.code).toBe(0);
      expect(caPem.endsWith(seen.stdout)).toBe(true);
    } finally {
      await b.close();
    }
  }, 60_000);
});
