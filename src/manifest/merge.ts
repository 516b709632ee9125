/**
 * The two merge operations of docs/configuration.md §5.2.
 *   fold(B1…Bn)      — peers (multiple parents, or bottles selected together), left to right
 *   overlay(Base, C) — inheritance, the child's declared keys over the base
 * Both work on PartialBottle, where `undefined` means "not declared", so that a child that does
 * not mention a key keeps its parent's value.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AgentProviderConfig, BottleConfig, EnvEntry, GitGateRepo, SourcedRoute } from './types.js';
import { defaultAgentProvider, type DeclaredField, type PartialBottle } from './bottle-schema.js';

function unionEnv(a: readonly EnvEntry[] | undefined, b: readonly EnvEntry[] | undefined): EnvEntry[] | undefined {
  if (a === undefined) return b === undefined ? undefined : [...b];
  if (b === undefined) return [...a];
  // Later wins per name; a replaced entry keeps its first position (declaration order).
  const out = new Map<string, EnvEntry>();
  for (const e of a) out.set(e.name, e);
  for (const e of b) out.set(e.name, e);
  return [...out.values()];
}

function concatRoutes(a: readonly SourcedRoute[] | undefined, b: readonly SourcedRoute[] | undefined): SourcedRoute[] | undefined {
  if (a === undefined && b === undefined) return undefined;
  const out: SourcedRoute[] = [];
  for (const r of [...(a ?? []), ...(b ?? [])]) {
    // Deep-equal routes (diamonds) resolve once; the source is ignored for equality.
    if (!out.some((o) => isDeepStrictEqual(o.route, r.route))) out.push(r);
  }
  return out;
}

function unionRepos(a: readonly GitGateRepo[] | undefined, b: readonly GitGateRepo[] | undefined): GitGateRepo[] | undefined {
  if (a === undefined) return b === undefined ? undefined : [...b];
  if (b === undefined) return [...a];
  const out = new Map<string, GitGateRepo>();
  for (const r of a) out.set(r.name, r);
  for (const r of b) out.set(r.name, r); // whole entry replaced (no field mixing)
  return [...out.values()];
}

function userField(a: DeclaredField | undefined, b: DeclaredField | undefined): DeclaredField | undefined {
  return b !== undefined && b.value !== '' ? b : a;
}

export function fold(parts: readonly PartialBottle[], notes: string[] = []): PartialBottle {
  let acc: PartialBottle = { user: {} };
  for (const p of parts) {
    let agentProvider = acc.agentProvider;
    if (p.agentProvider !== undefined) {
      if (agentProvider !== undefined && !isDeepStrictEqual(agentProvider.config, p.agentProvider.config)) {
        notes.push(`agent_provider of bottle ${agentProvider.bottle} overridden by bottle ${p.agentProvider.bottle}`);
      }
      agentProvider = p.agentProvider;
    }
    const env = unionEnv(acc.env, p.env);
    const routes = concatRoutes(acc.routes, p.routes);
    const repos = unionRepos(acc.repos, p.repos);
    const log = p.log ?? acc.log;
    const name = userField(acc.user.name, p.user.name);
    const email = userField(acc.user.email, p.user.email);
    acc = {
      ...(env !== undefined ? { env } : {}),
      ...(routes !== undefined ? { routes } : {}),
      ...(log !== undefined ? { log } : {}),
      user: { ...(name ? { name } : {}), ...(email ? { email } : {}) },
      ...(repos !== undefined ? { repos } : {}),
      ...(agentProvider !== undefined ? { agentProvider } : {}),
    };
  }
  return acc;
}

export function overlay(base: PartialBottle, child: PartialBottle): PartialBottle {
  const env = unionEnv(base.env, child.env);
  const routes = child.routes ?? base.routes;
  const log = child.log ?? base.log;
  const repos = child.repos ?? base.repos;
  const agentProvider = child.agentProvider ?? base.agentProvider;
  const name = userField(base.user.name, child.user.name);
  const email = userField(base.user.email, child.user.email);
  return {
    ...(env !== undefined ? { env } : {}),
    ...(routes !== undefined ? { routes } : {}),
    ...(log !== undefined ? { log } : {}),
    user: { ...(name ? { name } : {}), ...(email ? { email } : {}) },
    ...(repos !== undefined ? { repos } : {}),
    ...(agentProvider !== undefined ? { agentProvider } : {}),
  };
}

/** Applies defaults to the declarations: the BottleConfig every consumer reads. */
export function materialize(p: PartialBottle): BottleConfig {
  const provider: AgentProviderConfig = p.agentProvider?.config ?? defaultAgentProvider();
  const sources: { name?: string; email?: string } = {};
  if (p.user.name) sources.name = p.user.name.file;
  if (p.user.email) sources.email = p.user.email.file;
  return {
    env: p.env ?? [],
    egress: { routes: p.routes ?? [], log: p.log ?? 0 },
    gitGate: {
      user: {
        ...(p.user.name ? { name: p.user.name.value } : {}),
        ...(p.user.email ? { email: p.user.email.value } : {}),
        sources,
      },
      repos: p.repos ?? [],
    },
    agentProvider: provider,
  };
}
