/** Agent front-matter (docs/configuration.md §4). */
import type { Agent, GitUser } from './types.js';
import { type Ctx, MANIFEST_NAME, expectList, expectMap, expectString, stringOrList, type Obj } from './check.js';
import { parseGitUser } from './git-gate-schema.js';

/** Keys of Claude Code sub-agents: accepted and ignored so one file can serve both tools. */
export const AGENT_IGNORED_KEYS = ['name', 'description', 'model', 'color', 'memory', 'tools'] as const;
export const AGENT_KEYS = ['bottle', 'skills', 'git-gate', ...AGENT_IGNORED_KEYS] as const;
const BOTTLE_ONLY = ['env', 'egress', 'extends', 'agent_provider'];
const SKILL = /^[a-z][a-z0-9-]*$/;

export interface AgentParseOptions {
  readonly name: string;
  readonly origin: 'home' | 'repo';
  readonly file: string;
  readonly body: string;
}

export function parseAgent(ctx: Ctx, data: Obj, opts: AgentParseOptions): Agent | undefined {
  for (const k of BOTTLE_ONLY) {
    if (Object.hasOwn(data, k)) {
      ctx.issue([k], `"${k}" is a bottle key; agents cannot declare it (bottles live only in ~/.bot-bottle/bottles/)`, 'key');
    }
  }
  const rest = Object.create(null) as Obj;
  for (const [k, v] of Object.entries(data)) if (!BOTTLE_ONLY.includes(k)) rest[k] = v;
  ctx.keys(rest, [], AGENT_KEYS, 'agent front-matter', 'agent');
  const has = (k: string): boolean => data[k] !== undefined && data[k] !== null;

  let bottles: string[] = [];
  if (has('bottle')) {
    const list = stringOrList(ctx, data.bottle, ['bottle']);
    if (list) {
      list.forEach((n, i) => {
        const p = Array.isArray(data.bottle) ? ['bottle', i] : ['bottle'];
        if (!MANIFEST_NAME.test(n)) ctx.issue(p, `bottle "${n}" is not a valid bottle name (^[a-z][a-z0-9-]{0,62}$)`);
      });
      bottles = list;
    }
  }

  const skills: string[] = [];
  if (has('skills')) {
    const list = expectList(ctx, data.skills, ['skills'], { what: 'skill names' });
    list?.forEach((v, i) => {
      const s = expectString(ctx, v, ['skills', i], { nonEmpty: true });
      if (s === undefined) return;
      if (!SKILL.test(s)) ctx.issue(['skills', i], `skill "${s}" must be kebab-case (^[a-z][a-z0-9-]*$), matching its directory under ~/.claude/skills/`);
      else if (skills.includes(s)) ctx.issue(['skills', i], `skill "${s}" is listed twice`);
      else skills.push(s);
    });
  }

  let gitUser: GitUser = {};
  if (has('git-gate')) {
    const gg = expectMap(ctx, data['git-gate'], ['git-gate']);
    if (gg) {
      if (Object.hasOwn(gg, 'repos')) ctx.issue(['git-gate', 'repos'], 'git-gate.repos can only be declared in a bottle', 'key');
      const other = Object.create(null) as Obj;
      for (const [k, v] of Object.entries(gg)) if (k !== 'repos') other[k] = v;
      ctx.keys(other, ['git-gate'], ['user'], 'agent git-gate (agents may declare only user)');
      if (gg.user !== undefined && gg.user !== null) gitUser = parseGitUser(ctx, gg.user, ['git-gate', 'user']) ?? {};
    }
  }

  const description = typeof data.description === 'string' && data.description.trim() !== '' ? data.description.trim() : null;
  if (!ctx.ok()) return undefined;
  return {
    name: opts.name,
    origin: opts.origin,
    file: opts.file,
    description,
    prompt: opts.body.trim(),
    skills,
    bottles,
    gitUser,
  };
}
