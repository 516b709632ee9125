/**
 * `info <agent> [--bottle B…] [--json]` (docs/cli.md#commands): the resolved configuration of an
 * agent — the preflight's blocks without backend, slug or workspace. Never prints an env value.
 */
import type { Command } from 'commander';
import type { Agent, EnvEntry, GitIdentity, OnMatch, Route, SelectedBottles } from '../../manifest/types.js';
import { indexManifests, loadAgent, loadBottles, resolveIdentity, selectBottleNames, sourceLabel, type ManifestIndex } from '../../manifest/loader.js';
import { resolveHome, displayPath } from '../../manifest/home.js';
import { MANIFEST_DLP_DEFAULTS } from '../../manifest/route-schema.js';
import { imageBuildAvailability, NOT_AVAILABLE, SUPERVISE_AVAILABLE } from '../../plan/availability.js';
import { printJson, warn } from '../output.js';
import {
  block,
  formatBottleSelection,
  formatEnvNames,
  formatGitGateRepo,
  formatIdentity,
  formatProviderImage,
  formatRouteTable,
  parentNames,
} from '../format-bottle.js';

/**
 * A route shown by info/preflight, with the origin tag of docs/configuration.md §6 (`provider:<n>`
 * / `bottle:<file>`).
 */
export interface InfoRoute {
  readonly route: Route;
  readonly origin: string;
  /** Provider name for provider-owned routes (changes the tag and the DLP defaults). */
  readonly provider?: string;
}

/**
 * What the planning layer adds once it exists: provider routes (already merged with the
 * bottle's), dropped routes, notes, hidden env names, image. Absent = the bottle's own view.
 */
export interface InfoExtras {
  readonly routes?: readonly InfoRoute[];
  readonly dropped?: ReadonlyArray<{ readonly host: string; readonly origin: string; readonly reason: string }>;
  readonly notes?: readonly string[];
  readonly hiddenEnvNames?: readonly string[];
  readonly image?: string;
  readonly providerNotes?: readonly string[];
}

export interface InfoInput {
  readonly index: ManifestIndex;
  readonly agent: Agent;
  readonly selected: SelectedBottles;
  readonly identity: GitIdentity;
  readonly warnings?: readonly string[];
}

const PROVIDER_DLP_DEFAULTS = { outbound: ['token_patterns', 'known_secrets'], inbound: [] as string[], onMatch: 'redact' as OnMatch };

export function routeJson(r: InfoRoute): Record<string, unknown> {
  const d = r.provider !== undefined ? PROVIDER_DLP_DEFAULTS : MANIFEST_DLP_DEFAULTS;
  const route = r.route;
  return {
    host: route.host,
    port: route.port ?? null,
    origin: r.origin,
    auth: route.auth ? { scheme: route.auth.scheme, tokenRef: route.auth.tokenRef, ...(route.auth.header ? { header: route.auth.header } : {}) } : null,
    tlsPassthrough: route.tlsPassthrough,
    gitFetch: route.git.fetch,
    matches: route.matches ? route.matches.map((m) => ({ ...m })) : null,
    dlp: route.tlsPassthrough
      ? { outbound: [], inbound: [], onMatch: null }
      : {
          outbound: [...(route.dlp.outboundDetectors ?? d.outbound)],
          inbound: [...(route.dlp.inboundDetectors ?? d.inbound)],
          onMatch: route.dlp.outboundOnMatch ?? d.onMatch,
        },
    allowPrivateCidrs: [...route.allowPrivateCidrs],
  };
}

function bottleRoutes(selected: SelectedBottles): InfoRoute[] {
  return selected.config.egress.routes.map((r) => ({ route: r.route, origin: `bottle:${r.source.file}` }));
}

function promptFirstLine(prompt: string): string {
  const line = prompt.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

function envKinds(entries: readonly EnvEntry[], hidden: ReadonlySet<string>): Array<{ name: string; kind: EnvEntry['kind'] }> {
  return entries.filter((e) => !hidden.has(e.name)).map((e) => ({ name: e.name, kind: e.kind }));
}

function imageFor(template: string): string {
  return `bot-bottle-${template}:latest`;
}

/** The `bot-bottle/info@1` document (plan@1 minus slug, backend, workspace, label, colour). */
export function buildInfoDocument(input: InfoInput, extras: InfoExtras = {}): Record<string, unknown> {
  const { index, agent, selected, identity } = input;
  const cfg = selected.config;
  const hidden = new Set(extras.hiddenEnvNames ?? []);
  const routes = extras.routes ?? bottleRoutes(selected);
  const idJson = (f: GitIdentity['name']) => (f ? { value: f.value, from: f.from, source: f.file } : null);
  return {
    schema: 'bot-bottle/info@1',
    agent: {
      name: agent.name,
      origin: agent.origin,
      source: agent.file,
      description: agent.description,
      skills: [...agent.skills],
      promptChars: agent.prompt.length,
      promptFirstLine: agent.prompt === '' ? null : promptFirstLine(agent.prompt),
      defaultBottles: [...agent.bottles],
    },
    provider: {
      template: cfg.agentProvider.template,
      image: extras.image ?? imageFor(cfg.agentProvider.template),
      dockerfile: cfg.agentProvider.dockerfile,
      // Same shape as the plan's provider.imageBuild (docs/plan-json.md).
      imageBuild: imageBuildAvailability(null, false),
      authToken: cfg.agentProvider.authToken,
      notes: [...(extras.providerNotes ?? [])],
    },
    bottles: selected.trees.map((t) => ({ name: t.name, source: selected.sources[t.name] ?? null, extends: parentNames(t) })),
    gitIdentity: { name: idJson(identity.name), email: idJson(identity.email) },
    gitGate: cfg.gitGate.repos.map((r) => ({
      name: r.name,
      url: r.url,
      host: r.host,
      port: r.port,
      key: r.key?.provider ?? null,
      hostKeyPinned: r.hostKeys.length > 0,
      tokenRef: r.tokenRef ?? null,
      readOnly: r.readOnly,
      protectedRefs: [...r.protectedRefs],
      allowForcePush: r.allowForcePush,
      allowDelete: r.allowDelete,
    })),
    egress: { log: cfg.egress.log, routes: routes.map(routeJson), dropped: [...(extras.dropped ?? [])] },
    env: envKinds(cfg.env, hidden),
    supervise: { available: SUPERVISE_AVAILABLE, note: SUPERVISE_AVAILABLE ? null : NOT_AVAILABLE },
    warnings: [...(input.warnings ?? []), ...selected.notes, ...(extras.notes ?? [])],
    home: displayPath(index.home, index.userHome),
  };
}

export function renderInfoText(input: InfoInput, extras: InfoExtras = {}): string {
  const { index, agent, selected, identity } = input;
  const cfg = selected.config;
  const hidden = new Set(extras.hiddenEnvNames ?? []);
  const routes = extras.routes ?? bottleRoutes(selected);
  const provider = cfg.agentProvider;
  const image = formatProviderImage({
    image: extras.image ?? imageFor(provider.template),
    dockerfile: provider.dockerfile === null ? null : displayPath(provider.dockerfile, index.userHome),
    source: 'manifest',
    build: imageBuildAvailability(null, false),
  });
  const providerBits = [provider.template, `  ${image}`];
  if (provider.authToken) providerBits.push(`  auth_token ${provider.authToken}`);
  const lines: string[] = [`agent info  ${agent.name}`];
  lines.push(...block('agent', `${agent.name}  (${agent.origin}: ${sourceLabel(index, agent.file)})`));
  if (agent.description) lines.push(...block('description', agent.description));
  lines.push(...block('prompt', agent.prompt === '' ? '(empty)' : `${agent.prompt.length} chars  "${promptFirstLine(agent.prompt)}"`));
  lines.push(...block('skills', agent.skills.length > 0 ? agent.skills.join(', ') : '(none)'));
  lines.push(...block('default', agent.bottles.length > 0 ? agent.bottles.join(', ') : '(none)'));
  lines.push(...block('provider', providerBits.join('')));
  lines.push(...block('bottles', formatBottleSelection(selected.trees)));
  lines.push(...block('git identity', formatIdentity(identity)));
  lines.push(...block('git-gate', cfg.gitGate.repos.map(formatGitGateRepo)));
  const routeLines = formatRouteTable(
    routes.map((r) => ({ route: r.route, ...(r.provider !== undefined ? { provider: r.provider, defaultOnMatch: 'redact' as const } : {}) })),
  );
  lines.push(...block('egress', [`log=${cfg.egress.log}`, ...(routeLines.length > 0 ? routeLines : ['(no routes: everything is denied)'])]));
  lines.push(...block('env', formatEnvNames(cfg.env, hidden)));
  lines.push(...block('supervise', SUPERVISE_AVAILABLE ? 'on' : NOT_AVAILABLE));
  const notes = [...(input.warnings ?? []), ...selected.notes, ...(extras.notes ?? [])];
  if (notes.length > 0) lines.push(...block('notes', notes));
  return `${lines.join('\n')}\n`;
}

interface InfoFlags {
  bottle?: string[];
  json?: boolean;
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the resolved configuration of an agent and its bottles')
    .argument('<agent>', 'agent name (see bot-bottle list)')
    .option('--bottle <name>', 'bottle to apply; repeatable, order matters (later wins)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--json', 'print a bot-bottle/info@1 JSON document')
    .addHelpText('after', '\nExample:\n  $ bot-bottle info implementer --bottle gitea-dev --json\n')
    .action((name: string, flags: InfoFlags) => {
      const home = resolveHome();
      const index = indexManifests({ home, cwd: process.cwd() });
      for (const w of index.warnings) warn(w);
      const agent = loadAgent(index, name);
      const names = selectBottleNames(agent, flags.bottle ?? [], index);
      const selected = loadBottles(index, names);
      const identity = resolveIdentity(agent, selected.config);
      const input: InfoInput = { index, agent, selected, identity };
      // Index warnings went to stderr already; the JSON document carries them too for scripts.
      if (flags.json) printJson(buildInfoDocument({ ...input, warnings: index.warnings }));
      else process.stdout.write(renderInfoText(input));
    });
}
