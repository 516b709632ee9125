/**
 * macos-container on a real Mac: real networks and containers through Apple's `container`. Runs
 * only on macOS 26 with the container service running and both images present; elsewhere it is
 * skipped with the reason printed (never a silent pass).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliBottle } from '../../src/backends/cli-bottle.js';
import { realRunner } from '../../src/backends/command-runner.js';
import { createMacosContainerBackend } from '../../src/backends/macos-container/index.js';
import { SIDECAR_IMAGE } from '../../src/backends/macos-container/argv.js';
import { containerAvailability, probeContainerHost } from '../../src/backends/macos-container/tools.js';
import { writeRealState, routesFor } from '../launch/real-state.js';
import { makePlan, tempHome } from './helpers/plan.js';

const IMAGE = process.env.BOT_BOTTLE_TEST_AGENT_IMAGE ?? 'bot-bottle-claude:latest';

async function reason(): Promise<string | null> {
  const a = containerAvailability(probeContainerHost());
  if (!a.ok) return a.reason;
  if (!/running/i.test((await realRunner('container', ['system', 'status'])).stdout)) return 'the container system service is not running ("container system start")';
  for (const img of [SIDECAR_IMAGE, IMAGE]) if ((await realRunner('container', ['image', 'inspect', img])).code !== 0) return `needs the image ${img}`;
  return null;
}

const skip = await reason();
if (skip) console.warn(`SKIP macos-container runtime tests (${skip})`);

describe.skipIf(skip !== null)('macos-container runtime (real containers)', () => {
  const home = tempHome();
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('runs as node, reaches only its sidecar on the host-only network; teardown leaves nothing', async () => {
    const backend = createMacosContainerBackend();
    const base = makePlan(home, `mc-rt-${process.pid}`, { backend: 'macos-container' });
    const plan = { ...base, agent: { ...base.agent, image: { tag: IMAGE, dockerfile: null, context: null } } };
    await writeRealState(plan, routesFor(plan.slug, 'example.invalid', 443));
    const b = (await backend.launch(plan, {}, { onProgress: (s) => process.stderr.write(`  ${s}\n`) })) as CliBottle;
    try {
      expect((await b.exec(['id', '-un'])).stdout.trim()).toBe('node');
      const connect = (host: string, port: number) => b.exec(['node', '-e', `require('net').connect(${port},'${host}').on('connect',()=>process.exit(0)).on('error',()=>process.exit(3))`]);
      expect((await connect(b.sidecarAddr, 9099)).code).toBe(0);
      expect((await connect('1.1.1.1', 80)).code).not.toBe(0);
    } finally {
      await b.close();
    }
    expect((await backend.cleanupPlan(new Set())).resources.filter((r) => r.slug === plan.slug)).toEqual([]);
  }, 600_000);
});
