/**
 * Cheap facts about the docker engine and host: is a CLI there and does the engine answer
 * (`available()`, doctor), what the engine is (id, registered runtimes, Docker Desktop or a
 * Linux engine on this host), and where the host tools the backend runs as root live.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { BottleError } from '../../errors.js';
import { isLinux } from '../platform.js';
import { Docker, engineSocket, findDockerCli, pingEngine } from './engine.js';
import { engineApi, type EngineApi } from './engine-api.js';

export type DockerAvailability = { ok: true; cli: string } | { ok: false; reason: string; fix: string };

export async function dockerAvailability(cli?: string): Promise<DockerAvailability> {
  const found = cli ?? findDockerCli();
  if (found === null) return { ok: false, reason: 'the docker CLI was not found on PATH', fix: 'install Docker (Debian: apt-get install docker.io) or set BOT_BOTTLE_DOCKER_CLI' };
  const socket = engineSocket();
  if (socket !== null) {
    if (!(await pingEngine(socket))) {
      return {
        ok: false,
        reason: `no docker engine answers on ${socket}`,
        fix: process.env.DOCKER_HOST ? `start the engine behind DOCKER_HOST=${process.env.DOCKER_HOST}` : 'start the docker daemon (systemctl start docker), or set DOCKER_HOST',
      };
    }
    const fw = firewallProblem();
    if (fw !== null) return fw;
    return { ok: true, cli: found };
  }
  // tcp:// engines: one CLI round trip.
  const r = await new Docker(found).run(['version', '--format', '{{.Server.APIVersion}}'], { timeoutMs: 5000 });
  return r.code === 0 ? { ok: true, cli: found } : { ok: false, reason: `the docker engine at ${process.env.DOCKER_HOST ?? '?'} does not answer`, fix: 'start it or fix DOCKER_HOST' };
}

export interface EngineInfo {
  id: string;
  runtimes: string[];
  serverVersion: string;
  apiVersion: string;
  /** Docker Desktop: the engine runs in a VM, whose boundary stands in for the host firewall. */
  desktop: boolean;
  operatingSystem: string;
  /** The runtime a container gets without `--runtime` (runc unless the engine says otherwise). */
  defaultRuntime: string;
}

interface InfoDoc {
  ID?: string;
  Runtimes?: Record<string, unknown>;
  ServerVersion?: string;
  OperatingSystem?: string;
  DefaultRuntime?: string;
}

/** GET /info and /version (the engine API, not `docker info`: no CLI process, ~10 ms here). */
export async function engineInfo(api: EngineApi = engineApi()): Promise<EngineInfo> {
  const [j, v] = await Promise.all([api.json<InfoDoc>('/info'), api.json<{ ApiVersion?: string }>('/version')]);
  if (j === null) throw new BottleError('BACKEND_UNAVAILABLE', 'docker engine API: /info not found', { fix: 'run "bot-bottle doctor --backend docker"' });
  const os = j.OperatingSystem ?? '';
  return {
    id: j.ID ?? 'unknown',
    runtimes: Object.keys(j.Runtimes ?? {}),
    serverVersion: j.ServerVersion ?? '',
    apiVersion: v?.ApiVersion ?? '',
    desktop: /Docker Desktop/i.test(os),
    operatingSystem: os,
    defaultRuntime: j.DefaultRuntime || 'runc',
  };
}

const infoCache = new Map<string, Promise<EngineInfo>>();

/**
 * engineInfo once per engine endpoint for the life of this process (a launch, a test run): the
 * facts a launch reads (engine id, registered runtimes, Desktop or not) change only when the engine
 * is reconfigured and restarted. A failed query is not cached.
 */
export function cachedEngineInfo(api: EngineApi = engineApi()): Promise<EngineInfo> {
  const key = JSON.stringify(api.endpoint);
  let p = infoCache.get(key);
  if (!p) {
    p = engineInfo(api);
    infoCache.set(key, p);
    p.catch(() => infoCache.delete(key));
  }
  return p;
}

/** Absolute path of a root-side host tool in the system directories only, or null. */
export function findHostTool(name: string): string | null {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return null;
}

/** CAP_NET_ADMIN (bit 12) in this process's effective set, read from /proc (Linux only). */
export function hasNetAdmin(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return hex !== undefined && (BigInt(`0x${hex}`) & (1n << 12n)) !== 0n;
  } catch {
    return false;
  }
}

/**
 * A local Linux engine needs the bottle firewall (an nftables table), so root or CAP_NET_ADMIN
 * and nft; without them the backend is unavailable rather than leaky. Elsewhere (macOS: Docker
 * Desktop) the engine's VM boundary stands in for it.
 */
function firewallProblem(): { ok: false; reason: string; fix: string } | null {
  if (!isLinux()) return null;
  if (!hasNetAdmin()) {
    return { ok: false, reason: 'the docker backend adds an nftables table per bottle (closing the host and the bridge gateway), which needs root or CAP_NET_ADMIN', fix: 'run bot-bottle as root (sudo -E), or use --backend netns' };
  }
  if (findHostTool('nft') === null) return { ok: false, reason: 'nft (nftables) not found; the bottle firewall needs it', fix: 'apt-get install nftables' };
  return null;
}
