/**
 * Manifest checks of `doctor` (docs/cli.md, common scope): every agent and bottle file parses
 * and resolves (extends chain, default selection), and the facts later checks need — which host
 * variables the bottles reference, whether a bottle uses gitea keys, which provider each agent
 * runs. Parsing is the loader's (the same code `list` and `start` use); nothing here re-reads YAML.
 */
import { buildListDocument } from '../manifest/list-document.js';
import { displayPath } from '../manifest/home.js';
import { loadBottles, type ManifestIndex } from '../manifest/loader.js';
import type { BottleConfig } from '../manifest/types.js';
import { fail, ok, type Check } from './check.js';

export interface ReferencedVariable {
  /** A credential counts as unset when empty too (the token resolution refuses ''); an env entry only when absent. */
  credential: boolean;
  /** Bottles whose effective configuration references it (a child inherits its parents'). */
  bottles: Set<string>;
}

export interface AgentFact {
  readonly name: string;
  /** The provider of the agent's default bottle selection; null when it has none or it does not load. */
  readonly template: string | null;
}

export interface ManifestFacts {
  readonly agents: AgentFact[];
  readonly giteaKeyBottles: string[];
  readonly variables: Map<string, ReferencedVariable>;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function collect(facts: ManifestFacts, bottle: string, cfg: BottleConfig): void {
  const note = (name: string, credential: boolean): void => {
    const v = facts.variables.get(name) ?? { credential: false, bottles: new Set<string>() };
    v.credential ||= credential;
    v.bottles.add(bottle);
    facts.variables.set(name, v);
  };
  for (const e of cfg.env) if (e.kind === 'host') note(e.hostVar, false);
  for (const r of cfg.egress.routes) if (r.route.auth) note(r.route.auth.tokenRef, true);
  if (cfg.agentProvider.authToken) note(cfg.agentProvider.authToken, true);
  for (const repo of cfg.gitGate.repos) {
    if (repo.tokenRef) note(repo.tokenRef, true);
    if (repo.key?.provider === 'gitea') {
      note(repo.key.provisionerToken, true);
      if (!facts.giteaKeyBottles.includes(bottle)) facts.giteaKeyBottles.push(bottle);
    }
  }
}

export function manifestChecks(index: ManifestIndex): { checks: Check[]; facts: ManifestFacts } {
  const checks: Check[] = [];
  const facts: ManifestFacts = { agents: [], giteaKeyBottles: [], variables: new Map() };
  // One problem is reported once: a child bottle that fails only because its parent is broken
  // gets the parent's (cached, identical) error, which is already on the parent's line.
  const reported = new Set<string>();
  const broken = (id: string, text: string): void => {
    if (reported.has(text)) return;
    reported.add(text);
    checks.push(fail('common', id, text, 'fix the file (bot-bottle list shows every broken manifest)'));
  };

  const doc = buildListDocument(index);
  for (const b of doc.bottles) if (b.broken) broken(`manifest.bottle.${b.name}`, b.broken);
  for (const a of doc.agents) if (a.broken) broken(`manifest.agent.${a.name}`, a.broken);

  for (const b of doc.bottles) {
    if (b.broken) continue;
    try {
      collect(facts, b.name, loadBottles(index, [b.name]).config);
    } catch (e) {
      broken(`manifest.bottle.${b.name}`, errorText(e));
    }
  }
  for (const a of doc.agents) {
    if (a.broken) continue;
    if (a.bottle.length === 0) {
      facts.agents.push({ name: a.name, template: null });
      continue;
    }
    try {
      facts.agents.push({ name: a.name, template: loadBottles(index, a.bottle).config.agentProvider.template });
    } catch (e) {
      const text = errorText(e);
      // The loader's selection errors ("unknown bottle") do not name the agent's file.
      if (!reported.has(text)) broken(`manifest.agent.${a.name}`, `agent ${a.name} (${displayPath(a.source, index.userHome)}): ${text}`);
      facts.agents.push({ name: a.name, template: null });
    }
  }
  if (!checks.some((c) => c.status === 'fail')) {
    checks.unshift(ok('common', 'manifests', `${doc.agents.length} agent(s) and ${doc.bottles.length} bottle(s) parse`));
  }
  return { checks, facts };
}
