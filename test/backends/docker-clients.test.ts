/**
 * close() of a docker bottle ends every docker client it started: the engine normally ends an exec
 * stream when its container is removed, but gVisor 2022-12 leaves `docker exec` hanging, which held
 * the launcher (and its capability restart) forever. The hang is the engine's, so the client here
 * is a stand-in script that behaves like that hung `docker exec`: it ignores SIGTERM and never exits.
 * No engine needed.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Docker } from '../../src/backends/docker/engine.js';
import { namesFor } from '../../src/backends/docker/names.js';
import { CLIENT_GRACE_MS, DockerBottle } from '../../src/backends/docker/running.js';
import { UndoStack } from '../../src/backends/undo-stack.js';
import { dockerPlan } from './helpers/docker.js';
import { pidAlive as alive } from '../../src/util/pid-alive.js';

const dir = mkdtempSync(join(tmpdir(), 'bb-docker-clients-'));
afterAll(() => {
  // A failing run must not leave its stand-ins (they ignore SIGTERM) behind.
  for (const name of ['hung-docker', 'ok-docker', 'unused-docker']) {
    let pids: number[] = [];
    try {
      pids = readFileSync(join(dir, `${name}.pids`), 'utf8').trim().split('\n').map(Number);
    } catch {
      continue;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function standIn(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\necho "$$" >> ${join(dir, `${name}.pids`)}\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

function bottle(cli: string, undo = new UndoStack()): DockerBottle {
  const slug = 'dkclients';
  return new DockerBottle({
    plan: dockerPlan(dir, slug), docker: new Docker(cli), names: namesFor(slug), undo, sidecarAddr: '10.0.0.1', agentAddr: '10.0.0.2', runtime: null, caTrusted: true,
    sidecarLog: () => '',
  });
}


describe('docker bottle close()', () => {
  it('kills an exec client that outlives its removed container (SIGTERM ignored → SIGKILL), and the exec resolves', async () => {
    const cli = standIn('hung-docker', "trap '' TERM\nwhile :; do sleep 1; done");
    const undo = new UndoStack();
    let removed = false;
    undo.push('agent container', () => {
      removed = true;
    });
    const b = bottle(cli, undo);
    const pending = b.exec(['/bin/sh', '-c', 'sleep 600']);
    const attached = b.attach(['/bin/sh'], { tty: false });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await b.close();
    const took = Date.now() - t0;
    expect(removed).toBe(true);
    // Given its grace, then SIGTERM (ignored) and another grace, then SIGKILL.
    expect(took).toBeGreaterThanOrEqual(2 * CLIENT_GRACE_MS - 100);
    const r = await pending;
    expect(r.code).toBe(128 + 9);
    expect(await attached).toBe(128 + 9);
    const pids = readFileSync(join(dir, 'hung-docker.pids'), 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 30_000);

  it('leaves a client that ends with its container alone: close waits for it and kills nothing', async () => {
    const cli = standIn('ok-docker', 'sleep 0.5; echo done; exit 0');
    const b = bottle(cli);
    const pending = b.exec(['/bin/true']);
    await b.close();
    const r = await pending;
    expect(r).toMatchObject({ code: 0, stdout: 'done\n' });
  }, 30_000);

  it('closes at once when no client runs', async () => {
    const b = bottle(standIn('unused-docker', 'exit 0'));
    const t0 = Date.now();
    await b.close();
    expect(Date.now() - t0).toBeLessThan(CLIENT_GRACE_MS);
  });
});
