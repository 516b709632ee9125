/** One bottle file's own declarations (docs/configuration.md §3), before `extends` is applied. */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { AgentProviderConfig, EnvEntry, GitGateRepo, SourcedRoute } from './types.js';
import { type Ctx, ENV_NAME, checkHostVarRef, describe, expectBool, expectList, expectMap, expectString, isObj, quoteHint, stringOrList, type Obj } from './check.js';
import { isReservedEnvName, parseEnvValue } from './env-entries.js';
import { parseRoute } from './route-schema.js';
import { parseGitUser, parseRepos } from './git-gate-schema.js';
import { expandTilde } from './home.js';

export const BOTTLE_KEYS = ['extends', 'env', 'egress', 'git-gate', 'agent_provider'] as const;
export const AGENT_PROVIDER_KEYS = ['template', 'dockerfile', 'auth_token', 'forward_host_credentials', 'settings'] as const;
export const BUILTIN_TEMPLATES = ['claude', 'codex', 'pi'] as const;
const TEMPLATE = /^[a-z][a-z0-9-]*$/;

export interface DeclaredField {
  readonly value: string;
  readonly file: string;
}

/** A bottle's declarations; `undefined` = not declared (so overlay keeps the parent's). */
export interface PartialBottle {
  readonly env?: readonly EnvEntry[];
  readonly routes?: readonly SourcedRoute[];
  readonly log?: 0 | 1 | 2;
  readonly user: { readonly name?: DeclaredField; readonly email?: DeclaredField };
  readonly repos?: readonly GitGateRepo[];
  readonly agentProvider?: { readonly config: AgentProviderConfig; readonly bottle: string };
}

export interface OwnBottle extends PartialBottle {
  readonly name: string;
  readonly file: string;
  readonly extends?: readonly string[];
}

export interface BottleParseOptions {
  readonly name: string;
  /** Absolute file path. */
  readonly file: string;
  readonly userHome: string;
}

export function parseBottle(ctx: Ctx, data: Obj, opts: BottleParseOptions): OwnBottle | undefined {
  ctx.keys(data, [], BOTTLE_KEYS, 'bottle front-matter', 'bottle');
  const baseDir = dirname(opts.file);
  const present = (k: string): boolean => data[k] !== undefined && data[k] !== null;
  const out: {
    name: string; file: string; extends?: string[]; env?: EnvEntry[]; routes?: SourcedRoute[]; log?: 0 | 1 | 2;
    user: { name?: DeclaredField; email?: DeclaredField }; repos?: GitGateRepo[]; agentProvider?: { config: AgentProviderConfig; bottle: string };
  } = { name: opts.name, file: opts.file, user: {} };

  if (present('extends')) {
    const list = stringOrList(ctx, data.extends, ['extends']);
    if (list) {
      if (list.length === 0) ctx.issue(['extends'], 'extends must name at least one bottle (remove the key for none)');
      const seen = new Set<string>();
      list.forEach((n, i) => {
        const p = Array.isArray(data.extends) ? ['extends', i] : ['extends'];
        if (n === '') ctx.issue(p, 'extends: bottle names must not be empty');
        else if (seen.has(n)) ctx.issue(p, `extends lists "${n}" twice`);
        seen.add(n);
      });
      out.extends = list;
    }
  }

  if (present('env')) {
    const env = expectMap(ctx, data.env, ['env']);
    if (env) out.env = parseEnvMap(ctx, env);
  }

  if (present('egress')) {
    const eg = expectMap(ctx, data.egress, ['egress']);
    if (eg) {
      ctx.keys(eg, ['egress'], ['routes', 'log'], 'egress', 'egress');
      if (eg.routes !== undefined && eg.routes !== null) {
        const list = expectList(ctx, eg.routes, ['egress', 'routes'], { what: 'route maps' });
        if (list) {
          const routes: SourcedRoute[] = [];
          list.forEach((r, i) => {
            const route = parseRoute(ctx, r, ['egress', 'routes', i]);
            if (route) routes.push({ route, source: { bottle: opts.name, file: opts.file } });
          });
          out.routes = routes;
        }
      }
      if (eg.log !== undefined && eg.log !== null) {
        if (eg.log === 0 || eg.log === 1 || eg.log === 2) out.log = eg.log;
        else ctx.issue(['egress', 'log'], `egress.log must be the integer 0, 1 or 2, not ${describe(eg.log)}${typeof eg.log === 'string' ? ' (remove the quotes)' : ''}`);
      }
    }
  }

  if (present('git-gate')) {
    const gg = expectMap(ctx, data['git-gate'], ['git-gate']);
    if (gg) {
      ctx.keys(gg, ['git-gate'], ['user', 'repos'], 'git-gate');
      if (gg.user !== undefined && gg.user !== null) {
        const u = parseGitUser(ctx, gg.user, ['git-gate', 'user']);
        if (u?.name) out.user.name = { value: u.name, file: opts.file };
        if (u?.email) out.user.email = { value: u.email, file: opts.file };
      }
      if (gg.repos !== undefined && gg.repos !== null) {
        const repos = parseRepos(ctx, gg.repos, ['git-gate', 'repos'], { baseDir, userHome: opts.userHome });
        if (repos) out.repos = repos;
      }
    }
  }

  if (present('agent_provider')) {
    const ap = parseAgentProvider(ctx, data.agent_provider, { baseDir, userHome: opts.userHome });
    if (ap) out.agentProvider = { config: ap, bottle: opts.name };
  }
  return ctx.ok() ? out : undefined;
}

function parseEnvMap(ctx: Ctx, env: Obj): EnvEntry[] {
  const out: EnvEntry[] = [];
  for (const [name, value] of Object.entries(env)) {
    const p = ['env', name];
    if (!ENV_NAME.test(name)) {
      ctx.issue(p, `env name "${name}" is not a valid variable name (letters, digits, _; not starting with a digit)`, 'key');
      continue;
    }
    if (isReservedEnvName(name)) {
      ctx.issue(p, `env ${name} is reserved: bot-bottle sets it`, 'key');
      continue;
    }
    if (typeof value !== 'string') {
      // Never echo the value: it may be a secret someone pasted in.
      const hint = typeof value === 'number' || typeof value === 'boolean' ? `; quote it: ${name}: "…"` : value === null ? `; write ${name}: "" for an empty value` : '';
      ctx.issue(p, `env ${name} must be a string, not ${describe(value)}${hint}`);
      continue;
    }
    if (/[\0\r\n]/.test(value)) {
      ctx.issue(p, `env ${name} must not contain NUL, CR or LF`);
      continue;
    }
    out.push(parseEnvValue(name, value));
  }
  return out;
}

export function defaultAgentProvider(): AgentProviderConfig {
  return { template: 'claude', dockerfile: null, authToken: null, forwardHostCredentials: false, settings: {} };
}

function parseAgentProvider(ctx: Ctx, raw: unknown, opts: { baseDir: string; userHome: string }): AgentProviderConfig | undefined {
  const path = ['agent_provider'];
  const obj = expectMap(ctx, raw, path);
  if (!obj) return undefined;
  const before = ctx.issues.length;
  ctx.keys(obj, path, AGENT_PROVIDER_KEYS, 'agent_provider');
  const has = (k: string): boolean => obj[k] !== undefined && obj[k] !== null;
  let template = 'claude';
  if (has('template')) {
    const t = expectString(ctx, obj.template, [...path, 'template']);
    if (t !== undefined) {
      if (t === '') ctx.issue([...path, 'template'], 'agent_provider.template must not be empty: use claude, codex, pi or a plugin name under <home>/contrib/');
      else if (!TEMPLATE.test(t)) ctx.issue([...path, 'template'], 'agent_provider.template must be claude, codex, pi or a plugin directory name (^[a-z][a-z0-9-]*$)');
      else template = t;
    }
  }
  let dockerfile: string | null = null;
  if (has('dockerfile')) {
    const d = expectString(ctx, obj.dockerfile, [...path, 'dockerfile']);
    if (d !== undefined && d !== '') {
      const e = expandTilde(d, opts.userHome);
      dockerfile = isAbsolute(e) ? e : resolve(opts.baseDir, e);
    }
  }
  let authToken: string | null = null;
  if (has('auth_token')) {
    if (obj.auth_token === '') authToken = null;
    else authToken = checkHostVarRef(ctx, obj.auth_token, [...path, 'auth_token']) ?? null;
  }
  let forward = false;
  if (has('forward_host_credentials')) forward = expectBool(ctx, obj.forward_host_credentials, [...path, 'forward_host_credentials']) ?? false;
  let settings: Record<string, unknown> = {};
  if (has('settings')) {
    const s = expectMap(ctx, obj.settings, [...path, 'settings']);
    if (s) settings = toPlain(s) as Record<string, unknown>;
  }
  if (authToken !== null && template !== 'claude') {
    const alt = template === 'codex' ? '; use forward_host_credentials' : template === 'pi' ? '; use settings.api_key_ref' : '';
    ctx.issue([...path, 'auth_token'], `agent_provider.auth_token is only supported by template "claude" (this bottle uses "${template}"${alt})`);
  }
  if (forward && template !== 'codex') {
    const alt = template === 'claude' ? '; use auth_token' : '';
    ctx.issue([...path, 'forward_host_credentials'], `agent_provider.forward_host_credentials is only supported by template "codex" (this bottle uses "${template}"${alt})`);
  }
  if ((template === 'claude' || template === 'codex') && Object.keys(settings).length > 0) {
    ctx.issue([...path, 'settings'], `agent_provider.settings is only for template "pi" and plugins (this bottle uses "${template}"); remove it`);
  }
  if (ctx.issues.length > before) return undefined;
  return { template, dockerfile, authToken, forwardHostCredentials: forward, settings };
}

/** Null-prototype trees → ordinary objects (for provider settings handed to other modules). */
export function toPlain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toPlain);
  if (isObj(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(o, k, { value: toPlain(x), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return v;
}

/** Re-export for tests and callers that want the quoting rule. */
export { quoteHint };
