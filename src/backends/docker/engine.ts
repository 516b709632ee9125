/**
 * How bot-bottle talks to the Docker Engine: the `docker` CLI (docs/decisions/docker-engine-cli.md),
 * with the launcher's DOCKER_* settings and nothing else of its environment. `ping` is the one
 * Engine API call made directly (over the unix socket, a few ms), so `available()` stays cheap.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { runCommand, type CommandResult } from '../run-command.js';

const PASS_VARS = ['DOCKER_HOST', 'DOCKER_CONFIG', 'DOCKER_CONTEXT', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'HOME', 'PATH', 'LANG', 'TZ'] as const;

/** The docker CLI: $BOT_BOTTLE_DOCKER_CLI, else the first `docker` on PATH; null when none. */
export function findDockerCli(env: NodeJS.ProcessEnv = process.env): string | null {
  const own = env.BOT_BOTTLE_DOCKER_CLI;
  if (own) return existsSync(own) ? own : null;
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'docker');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** The environment of every docker client we start: DOCKER_* + HOME/PATH, plus `extra` (exec env values). */
export function clientEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of PASS_VARS) if (process.env[k] !== undefined) env[k] = process.env[k];
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  // Explicit, so an exec env that sets HOME (the agent's) never moves the client's config (and
  // with it a Docker Desktop context) away.
  env.DOCKER_CONFIG ??= join(process.env.HOME ?? homedir(), '.docker');
  // The classic builder streams plain step lines (progress we can relay) on every engine ≥ 20.10
  // and needs no buildx plugin (absent from Debian's docker.io).
  env.DOCKER_BUILDKIT = '0';
  env.DOCKER_CLI_HINTS = 'false';
  return { ...env, ...extra };
}

export class Docker {
  constructor(readonly cli: string) {}

  run(args: readonly string[], opts: { input?: string; env?: Readonly<Record<string, string>>; timeoutMs?: number } = {}): Promise<CommandResult> {
    return runCommand(this.cli, args, {
      env: clientEnv(opts.env),
      timeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
  }

  spawn(args: readonly string[], opts: { env?: Readonly<Record<string, string>>; stdio: SpawnOptions['stdio']; detached?: boolean }): ChildProcess {
    return spawn(this.cli, [...args], { env: clientEnv(opts.env), stdio: opts.stdio, detached: opts.detached ?? false });
  }
}

/** The unix socket the engine answers on, from DOCKER_HOST or the default; null for tcp:// hosts. */
export function engineSocket(env: NodeJS.ProcessEnv = process.env): string | null {
  const host = env.DOCKER_HOST;
  if (!host) return '/var/run/docker.sock';
  return host.startsWith('unix://') ? host.slice('unix://'.length) : null;
}

/** `GET /_ping` on the engine socket: true when the engine answers OK within `timeoutMs`. */
export function pingEngine(socketPath: string, timeoutMs = 1500): Promise<boolean> {
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}
