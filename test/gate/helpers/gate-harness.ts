/**
 * Starts a real git gate in-process from GitGateRepo declarations: renders the config with the
 * host-side renderer, writes state/<slug>/git-gate/ like the launch does, parses it back like the
 * daemon does, and starts the server on 127.0.0.1:0.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GitGateRepo } from '../../../src/manifest/types.js';
import { parseGateConfig } from '../../../src/gate/config.js';
import { agentGitConfig, renderGateConfig } from '../../../src/gate/render.js';
import { startGitGate, type GateEvent, type GitGate, type GitGateOptions } from '../../../src/gate/server.js';
import type { Tmp } from './git-env.js';

export function fileRepo(name: string, upstream: string, extra: Partial<GitGateRepo> = {}): GitGateRepo {
  return {
    name,
    url: `file://${upstream}`,
    kind: 'file',
    host: null,
    port: null,
    hostKeys: [],
    readOnly: false,
    protectedRefs: [],
    allowForcePush: false,
    allowDelete: false,
    ...extra,
  };
}

export interface Harness {
  gate: GitGate;
  events: GateEvent[];
  stateDir: string;
  root: string;
  auditPath: string;
  gitConfig: Array<readonly [string, string]>;
  spawned: string[][];
}

export async function startHarness(
  tmp: Tmp,
  repos: GitGateRepo[],
  opts: Partial<Omit<GitGateOptions, 'config' | 'configDir' | 'root' | 'listen'>> & { label?: string; tokenValues?: Record<string, string> } = {},
): Promise<Harness> {
  const label = opts.label ?? 'gate';
  const stateDir = tmp.path(`${label}-state`);
  const gateDir = join(stateDir, 'git-gate');
  mkdirSync(gateDir, { recursive: true });
  const rendered = renderGateConfig(repos);
  for (const f of rendered.copyFiles) {
    const dest = join(gateDir, f.dest);
    mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
    copyFileSync(f.source, dest);
    chmodSync(dest, 0o600);
  }
  for (const k of rendered.knownHosts) {
    const dest = join(gateDir, k.dest);
    mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
    writeFileSync(dest, k.content, { mode: 0o600 });
  }
  const configPath = join(gateDir, 'config.yaml');
  writeFileSync(configPath, rendered.configYaml, { mode: 0o600 });
  const config = parseGateConfig(readFileSync(configPath, 'utf8'), configPath);
  // Token values arrive by slot: map host var name (token_ref) → value through the slot map.
  const tokens: Record<string, string> = {};
  for (const [slot, ref] of Object.entries(rendered.tokenSlots)) {
    const v = opts.tokenValues?.[ref];
    if (v !== undefined) tokens[slot] = v;
  }
  const events: GateEvent[] = [];
  const spawned: string[][] = [];
  const auditPath = join(stateDir, 'logs', 'git-gate-audit.jsonl');
  const { label: _l, tokenValues: _t, ...rest } = opts;
  const gate = await startGitGate({
    config,
    configDir: gateDir,
    root: gateDir,
    listen: { host: '127.0.0.1', port: 0 },
    auditPath,
    initialFetch: false,
    ...rest,
    secrets: { tokens, ...(rest.secrets ?? {}) },
    onEvent: (e) => {
      events.push(e);
      rest.onEvent?.(e);
    },
    onSpawn: (argv) => {
      spawned.push([...argv]);
      rest.onSpawn?.(argv);
    },
  });
  return {
    gate,
    events,
    stateDir,
    root: gateDir,
    auditPath,
    gitConfig: agentGitConfig(repos, { name: 'Robo Dev', email: 'robo@example.com' }, gate.url),
    spawned,
  };
}
