/**
 * Helpers of the docker backend tests: whether an engine runs here (else the tests skip with a
 * printed reason), the image the test bottles use, and what a docker bottle may leave behind.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Docker, engineSocket, findDockerCli, pingEngine } from '../../../src/backends/docker/engine.js';
import { LABEL, namesFor } from '../../../src/backends/docker/names.js';
import { GUEST_HOME, type BottlePlan } from '../../../src/plan/bottle-plan.js';
import { BUNDLED_DOCKER_DIR } from '../../../src/providers/paths.js';
import { makePlan } from './plan.js';

/** The image of test bottles: the demo image (sh, curl, git; no agent CLI), built on demand. */
export const TEST_IMAGE = { tag: 'bot-bottle-demo:latest', dockerfile: null, context: null, defaultDockerfile: join(BUNDLED_DOCKER_DIR, 'Dockerfile.demo') };

/** Why docker tests cannot run here, or false. Printed once when they skip. */
export async function dockerSkipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'docker backend tests need root (the bottle firewall is an nftables table)';
  const cli = findDockerCli();
  if (cli === null) return 'no docker CLI on PATH';
  const socket = engineSocket();
  if (socket === null) return `DOCKER_HOST=${process.env.DOCKER_HOST ?? ''} is not a unix socket; the tests only use local engines`;
  if (!(await pingEngine(socket))) return `no docker engine answers on ${socket} (set DOCKER_HOST, or start dockerd; CI: .ci/run starts one)`;
  // No registry can be assumed: without a local base the images cannot be built.
  const base = process.env.BOT_BOTTLE_BASE_IMAGE;
  const docker = new Docker(cli);
  if (base) {
    if ((await docker.run(['image', 'inspect', '--format', '{{.Id}}', base])).code !== 0) return `BOT_BOTTLE_BASE_IMAGE=${base} is not present in the engine (CI: .ci/docker-base.sh builds it)`;
  } else if ((await docker.run(['image', 'inspect', '--format', '{{.Id}}', 'node:20-bookworm-slim'])).code !== 0) {
    return 'no base image: set BOT_BOTTLE_BASE_IMAGE to a local Debian+Node image (.ci/docker-base.sh builds one) or pull node:20-bookworm-slim';
  }
  return false;
}

export function dockerPlan(home: string, slug: string, over: Parameters<typeof makePlan>[2] = {}): BottlePlan {
  const p = makePlan(home, slug, { backend: 'docker', ...over });
  return { ...p, workdir: GUEST_HOME, agent: { ...p.agent, image: TEST_IMAGE } };
}

function dockerOut(args: string[]): string {
  const cli = findDockerCli();
  if (cli === null) return '';
  try {
    return execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Containers, networks and the nftables table a docker bottle left behind (must be empty after close). */
export function dockerLeftovers(slug: string): string[] {
  const out: string[] = [];
  for (const c of dockerOut(['ps', '-a', '--filter', `label=${LABEL.slug}=${slug}`, '--format', '{{.Names}}']).split('\n').filter(Boolean)) out.push(`container ${c}`);
  for (const n of dockerOut(['network', 'ls', '--filter', `label=${LABEL.slug}=${slug}`, '--format', '{{.Name}}']).split('\n').filter(Boolean)) out.push(`network ${n}`);
  try {
    const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
    const t = namesFor(slug).table;
    if (tables.split('\n').includes(`table inet ${t}`)) out.push(`nftables table ${t}`);
  } catch {
    // no nft: nothing of ours either
  }
  return out;
}

/** `docker inspect` of a container as text ('' when it does not exist). */
export function inspect(name: string): string {
  return dockerOut(['inspect', name]);
}
