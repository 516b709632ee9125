/**
 * smolmachines on a real hypervisor: a real VM from the provider image, real sidecars on the
 * loopback alias. Runs only where `smolvm`, a usable hypervisor, docker and the agent image exist;
 * elsewhere it is skipped with the reason printed (never a silent pass).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliBottle } from '../../src/backends/cli-bottle.js';
import { realRunner } from '../../src/backends/command-runner.js';
import { createSmolmachinesBackend } from '../../src/backends/smolmachines/index.js';
import { probeSmolHost, smolAvailability } from '../../src/backends/smolmachines/tools.js';
import { canConnect } from '../../src/util/can-connect.js';
import { writeRealState, routesFor } from '../launch/real-state.js';
import { makePlan, tempHome } from './helpers/plan.js';

const IMAGE = process.env.BOT_BOTTLE_TEST_AGENT_IMAGE ?? 'bot-bottle-claude:latest';

async function reason(): Promise<string | null> {
  const h = probeSmolHost();
  const a = smolAvailability(h);
  if (!a.ok) return a.reason;
  if (h.docker === null) return 'needs docker (the agent image is packed from its image store)';
  if ((await realRunner('docker', ['image', 'inspect', IMAGE])).code !== 0) return `needs the agent image ${IMAGE} (set BOT_BOTTLE_TEST_AGENT_IMAGE)`;
  return null;
}

const skip = await reason();
if (skip) console.warn(`SKIP smolmachines runtime tests (${skip})`);

describe.skipIf(skip !== null)('smolmachines runtime (real VM)', () => {
  const home = tempHome();
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('runs as node, resolves the sidecars to the alias, reaches them and nothing else; teardown leaves nothing', async () => {
    const backend = createSmolmachinesBackend();
    const base = makePlan(home, `smol-rt-${process.pid}`, { backend: 'smolmachines' });
    const plan = { ...base, agent: { ...base.agent, image: { tag: IMAGE, dockerfile: null, context: null } } };
    await writeRealState(plan, routesFor(plan.slug, 'example.invalid', 443));
    const b = (await backend.launch(plan, {}, { onProgress: (s) => process.stderr.write(`  ${s}\n`) })) as CliBottle;
    try {
      expect((await b.exec(['id', '-un'])).stdout.trim()).toBe('node');
      expect((await b.exec(['cat', '/etc/hosts'])).stdout).toContain(`${b.sidecarAddr} egress git-gate supervise`);
      const connect = (host: string, port: number) => b.exec(['node', '-e', `require('net').connect(${port},'${host}').on('connect',()=>process.exit(0)).on('error',()=>process.exit(3))`]);
      expect((await connect(b.sidecarAddr, 9099)).code).toBe(0);
      expect((await connect('1.1.1.1', 80)).code).not.toBe(0);
    } finally {
      await b.close();
    }
    expect(await canConnect(b.sidecarAddr, 9099)).toBe(false);
    expect((await backend.cleanupPlan(new Set())).resources.filter((r) => r.slug === plan.slug)).toEqual([]);
  }, 600_000);
});
