/**
 * docker checks of `doctor` (docs/cli.md; docs/configuration.md, "The docker backend"): the CLI,
 * the engine and its API version, the firewall's needs (root/CAP_NET_ADMIN, nft), the base image
 * the images build from, gVisor (info only), and the Docker Desktop note.
 */
import { isLinux } from '../backends/platform.js';
import { Docker, engineSocket, findDockerCli, pingEngine } from '../backends/docker/engine.js';
import { engineApi } from '../backends/docker/engine-api.js';
import { engineInfo, findHostTool, hasNetAdmin } from '../backends/docker/probe.js';
import { brokenNotePath, readBrokenNote, runscFix, runtimeMode } from '../backends/docker/runtime.js';
import { fail, ok, skip, warn, type Check } from './check.js';

const S = 'docker';
const MIN_API = [1, 41] as const;
const DEFAULT_BASE = 'node:20-bookworm-slim';

function apiAtLeast(v: string): boolean {
  const [a, b] = v.split('.').map(Number);
  return a !== undefined && b !== undefined && (a > MIN_API[0] || (a === MIN_API[0] && b >= MIN_API[1]));
}

export async function dockerChecks(env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const cli = findDockerCli(env);
  if (cli === null) return [fail(S, 'docker.cli', 'docker CLI not found on PATH', 'install Docker (Debian: apt-get install docker.io) or set BOT_BOTTLE_DOCKER_CLI')];
  const checks: Check[] = [ok(S, 'docker.cli', `docker CLI (${cli})`)];
  const socket = engineSocket(env);
  if (socket !== null && !(await pingEngine(socket))) {
    checks.push(fail(S, 'docker.engine', `no docker engine answers on ${socket}`, env.DOCKER_HOST ? 'start the engine behind DOCKER_HOST' : 'start the docker daemon (systemctl start docker), or set DOCKER_HOST'));
    return checks;
  }
  const docker = new Docker(cli);
  let info;
  try {
    info = await engineInfo(engineApi(env));
  } catch (err) {
    checks.push(fail(S, 'docker.engine', `docker info failed: ${err instanceof Error ? err.message : String(err)}`, 'check DOCKER_HOST and your permission on the engine socket'));
    return checks;
  }
  checks.push(
    apiAtLeast(info.apiVersion)
      ? ok(S, 'docker.engine', `engine ${info.serverVersion} (API ${info.apiVersion}) on ${info.operatingSystem || 'unknown OS'}`)
      : fail(S, 'docker.engine', `engine API ${info.apiVersion || '?'} is older than ${MIN_API.join('.')}`, 'upgrade Docker Engine to 20.10 or later'),
  );
  if (info.desktop) {
    checks.push(ok(S, 'docker.firewall', 'Docker Desktop: the engine VM is the boundary between bottles and this host (no host nftables table)'));
  } else if (isLinux()) {
    if (!hasNetAdmin()) checks.push(fail(S, 'docker.firewall', 'the bottle firewall (an nftables table per bottle) needs root or CAP_NET_ADMIN', 'run bot-bottle as root (sudo -E)'));
    else if (findHostTool('nft') === null) checks.push(fail(S, 'docker.firewall', 'nft (nftables) not found', 'apt-get install nftables'));
    else checks.push(ok(S, 'docker.firewall', 'root + nft: the per-bottle nftables table can be added'));
  }
  const base = env.BOT_BOTTLE_BASE_IMAGE || DEFAULT_BASE;
  const present = (await docker.run(['image', 'inspect', '--format', '{{.Id}}', base])).code === 0;
  checks.push(
    present
      ? ok(S, 'docker.base-image', `base image ${base} present`)
      : env.BOT_BOTTLE_BASE_IMAGE
        ? fail(S, 'docker.base-image', `BOT_BOTTLE_BASE_IMAGE names an image the engine does not have`, 'build or load it, or unset BOT_BOTTLE_BASE_IMAGE to use the public Node image')
        : warn(S, 'docker.base-image', `base image ${base} not present; the first launch pulls it`, `docker pull ${base}`),
  );
  let mode: string;
  try {
    mode = runtimeMode(env);
  } catch (err) {
    checks.push(fail(S, 'docker.runsc', err instanceof Error ? err.message : String(err), 'unset BOT_BOTTLE_DOCKER_RUNTIME or set auto, runsc or runc'));
    return checks;
  }
  const has = info.runtimes.includes('runsc');
  const broken = has ? readBrokenNote(info.id) : null;
  if (mode === 'runsc' && !has) checks.push(fail(S, 'docker.runsc', 'BOT_BOTTLE_DOCKER_RUNTIME=runsc but the engine has no runsc runtime', 'register runsc (dockerd --add-runtime runsc=/usr/bin/runsc)'));
  else if (mode === 'runc') checks.push(skip(S, 'docker.runsc', 'gVisor refused (BOT_BOTTLE_DOCKER_RUNTIME=runc)'));
  else if (!has) checks.push(skip(S, 'docker.runsc', 'gVisor (runsc) not registered: agents run under runc'));
  else if (broken !== null) checks.push(warn(S, 'docker.runsc', `gVisor (runsc) is registered but failed here: ${broken}`, `${runscFix(broken)}; bottles use runc until then (then delete ${brokenNotePath(info.id)})`));
  else checks.push(ok(S, 'docker.runsc', 'gVisor (runsc) registered: agent containers run under it'));
  return checks;
}
