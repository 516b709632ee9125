/**
 * `bot-bottle log --suggest` (docs/cli.md#log): a run's egress refusals turned into a proposed
 * `egress.routes` snippet the user reviews and pastes. Pure: entries in, YAML text out; nothing is
 * applied. Decisions: docs/decisions/log-suggest.md.
 *
 * - Only refusals a route would fix are used (`no_route`, `no_match`, `ip_literal`); DLP, canary,
 *   SSRF and the rest are counted in a comment and never proposed.
 * - Grouped by (host, port); per group, paths collapse to exact paths or whole-segment prefixes
 *   and methods are listed per path set, so the snippet is as narrow as the evidence.
 * - Never a credential (`auth` is a manifest decision), never a query string, never a path piece
 *   the log redactor replaced; IP-literal hosts are emitted commented out with the risk, and many
 *   denied names under one parent get a comment explaining why no wildcard is proposed.
 */
import { isIP } from 'node:net';
import type { LogEntry } from './entry.js';

/** Refusal codes that a route in the table would have avoided. */
const ROUTABLE: ReadonlySet<string> = new Set(['no_route', 'no_match', 'ip_literal']);
/** How many sibling names under one parent make the wildcard comment worth writing. */
const WILDCARD_HINT_AT = 3;
/** Path pieces a proposal must not carry: the redactor's markers (a secret stood there). */
const REDACTED = /\[redacted:|bot-bottle-redacted|<redacted>/;

export interface SuggestedMatch {
  methods: string[];
  paths: Array<{ type: 'exact' | 'prefix'; value: string }>;
}

export interface SuggestedRoute {
  host: string;
  port: number | null;
  /** Empty: every path (only CONNECTs were seen, so paths are unknown). */
  matches: SuggestedMatch[];
  denials: number;
  reasons: string[];
  /** Existing route labels that refused with `no_match`: merge into them, do not add a second. */
  existingRules: string[];
  /** Risks, one comment line each. */
  risks: string[];
  /** true: written commented out (IP literal); the user must decide explicitly. */
  commentedOut: boolean;
}

export interface Suggestion {
  routes: SuggestedRoute[];
  /** Refusals not turned into routes: reason code → count. */
  skipped: Record<string, number>;
  /** Paths dropped because they held redacted text. */
  droppedPaths: number;
  yaml: string;
}

const reasonCode = (r: string | null): string => (r ?? '').replace(/\s*\(.*$/, '');
const defaultPort = (p: number | null): boolean => p === null || p === 443 || p === 80;

function pathOnly(path: string): string {
  const q = path.search(/[?#]/);
  const p = q === -1 ? path : path.slice(0, q);
  return p.startsWith('/') ? p : `/${p}`;
}

const segments = (p: string): string[] => p.split('/').filter((s) => s !== '');

/**
 * Paths → patterns: paths sharing their first two segments (one for short paths) collapse to
 * their longest common whole-segment prefix; a lone path stays exact.
 */
export function collapsePaths(paths: readonly string[]): Array<{ type: 'exact' | 'prefix'; value: string }> {
  const groups = new Map<string, string[]>();
  for (const p of new Set(paths)) {
    const segs = segments(p);
    const key = segs.slice(0, Math.max(1, Math.min(2, segs.length - 1))).join('/');
    const list = groups.get(key) ?? [];
    list.push(p);
    groups.set(key, list);
  }
  const out: Array<{ type: 'exact' | 'prefix'; value: string }> = [];
  for (const list of groups.values()) {
    if (list.length === 1) {
      out.push({ type: 'exact', value: list[0]! });
      continue;
    }
    const split = list.map(segments);
    const common: string[] = [];
    for (let i = 0; split.every((s) => i < s.length && s[i] === split[0]![i]); i++) common.push(split[0]![i]!);
    out.push({ type: 'prefix', value: `/${common.join('/')}` });
  }
  // A pattern inside another group's prefix adds nothing (`/private/b/c` under `/private`).
  const covered = (p: { type: string; value: string }): boolean =>
    out.some((q) => q !== p && q.type === 'prefix' && (p.value === q.value ? p.type === 'exact' : p.value.startsWith(q.value === '/' ? '/' : `${q.value}/`)));
  return out.filter((p) => !covered(p)).sort((a, b) => a.value.localeCompare(b.value));
}

function parentOf(host: string): string | null {
  const labels = host.split('.');
  return labels.length >= 3 ? labels.slice(1).join('.') : null;
}

export function suggestRoutes(entries: readonly LogEntry[]): Suggestion {
  const skipped: Record<string, number> = {};
  const groups = new Map<string, { host: string; port: number | null; list: LogEntry[] }>();
  for (const e of entries) {
    if (e.source !== 'egress' || (e.decision !== 'deny' && e.decision !== 'error')) continue;
    const code = reasonCode(e.reason);
    if (!ROUTABLE.has(code) || REDACTED.test(e.host)) {
      skipped[code || 'unknown'] = (skipped[code || 'unknown'] ?? 0) + 1;
      continue;
    }
    const port = defaultPort(e.port) ? null : e.port;
    const key = `${e.host}|${port ?? ''}`;
    const g = groups.get(key) ?? { host: e.host, port, list: [] };
    g.list.push(e);
    groups.set(key, g);
  }

  let droppedPaths = 0;
  const routes: SuggestedRoute[] = [];
  for (const g of groups.values()) {
    // method set per path pattern, then one match per distinct method set
    const byPath = new Map<string, Set<string>>();
    for (const e of g.list) {
      if (e.method === 'CONNECT' || e.method === '-') continue;
      const p = pathOnly(e.path);
      if (REDACTED.test(p)) {
        droppedPaths += 1;
        continue;
      }
      const set = byPath.get(p) ?? new Set<string>();
      set.add(e.method.toUpperCase());
      byPath.set(p, set);
    }
    const patterns = collapsePaths([...byPath.keys()]);
    const methodsFor = (pat: { type: string; value: string }): string[] => {
      const m = new Set<string>();
      for (const [p, set] of byPath) {
        const hit = pat.type === 'exact' ? p === pat.value : p === pat.value || p.startsWith(pat.value === '/' ? '/' : `${pat.value}/`);
        if (hit) for (const x of set) m.add(x);
      }
      return [...m].sort();
    };
    const byMethods = new Map<string, SuggestedMatch>();
    for (const pat of patterns) {
      const methods = methodsFor(pat);
      const key = methods.join(',');
      const m = byMethods.get(key) ?? { methods, paths: [] };
      m.paths.push(pat);
      byMethods.set(key, m);
    }
    const reasons = [...new Set(g.list.map((e) => reasonCode(e.reason)))].sort();
    const existingRules = [
      ...new Set(g.list.filter((e) => reasonCode(e.reason) === 'no_match' && e.rule).map((e) => e.rule!.split(/[#\s]/)[0]!)),
    ].sort();
    const risks: string[] = [];
    const ipLiteral = isIP(g.host) !== 0;
    if (ipLiteral) risks.push('IP literal: egress cannot check a name for it and the address may change owner; prefer the service hostname');
    if (byMethods.size === 0 && patterns.length === 0) risks.push('only CONNECTs were refused, so the paths are unknown: this allows every path; add matches once you know them');
    const nonRead = [...byMethods.values()].flatMap((m) => m.methods).filter((m) => m !== 'GET' && m !== 'HEAD');
    if (nonRead.length > 0) risks.push(`allows ${[...new Set(nonRead)].join(', ')}: requests that can change data upstream`);
    routes.push({
      host: g.host,
      port: g.port,
      matches: [...byMethods.values()],
      denials: g.list.length,
      reasons,
      existingRules,
      risks,
      commentedOut: ipLiteral,
    });
  }
  routes.sort((a, b) => a.host.localeCompare(b.host) || (a.port ?? 0) - (b.port ?? 0));
  return { routes, skipped, droppedPaths, yaml: renderYaml(routes, skipped, droppedPaths) };
}

/** YAML scalar: plain when safe, else a JSON string (valid YAML). */
function scalar(s: string): string {
  const plain = /^\/?[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(s) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(s) && !/^[0-9.]+$/.test(s);
  return plain ? s : JSON.stringify(s);
}

function routeLines(r: SuggestedRoute): string[] {
  const lines = [`- host: ${scalar(r.host)}`];
  if (r.port !== null) lines.push(`  port: ${r.port}`);
  if (r.matches.length > 0) {
    lines.push('  matches:');
    for (const m of r.matches) {
      lines.push(`    - methods: [${m.methods.join(', ')}]`);
      lines.push('      paths:');
      for (const p of m.paths) lines.push(`        - {type: ${p.type}, value: ${scalar(p.value)}}`);
    }
  }
  return lines;
}

function renderYaml(routes: readonly SuggestedRoute[], skipped: Record<string, number>, droppedPaths: number): string {
  const total = routes.reduce((n, r) => n + r.denials, 0);
  const out = [
    `# Proposed by \`bot-bottle log --suggest\` from ${total} refused request${total === 1 ? '' : 's'}. Nothing is applied:`,
    '# review each route, then paste what you want under the front-matter of a bottle.',
    '# No credentials are proposed: a host that needs one gets `auth` with a token_ref in the',
    '# manifest, written by you (docs/configuration.md §3.4).',
  ];
  const parents = new Map<string, number>();
  for (const r of routes) {
    const p = parentOf(r.host);
    if (p) parents.set(p, (parents.get(p) ?? 0) + 1);
  }
  if (routes.length === 0) out.push('# No refusal here is one that a route would fix.');
  else {
    out.push('egress:', '  routes:');
    for (const r of routes) {
      out.push(`    # ${r.host}${r.port !== null ? `:${r.port}` : ''}: ${r.denials} refused (${r.reasons.join(', ')})`);
      if (r.existingRules.length > 0) {
        out.push(`    # a route for this host exists (${r.existingRules.join(', ')}): merge these matches into it;`, '    # the table allows one route per (host, port)');
      }
      for (const risk of r.risks) out.push(`    # RISK: ${risk}`);
      const parent = parentOf(r.host);
      if (parent && (parents.get(parent) ?? 0) >= WILDCARD_HINT_AT) {
        out.push(`    # RISK: ${parents.get(parent)} names under ${parent} were refused; a wildcard *.${parent} is not proposed:`, '    # it would allow every name there, including names that carry data out (DNS exfiltration)');
      }
      for (const l of routeLines(r)) out.push(`    ${r.commentedOut ? '# ' : ''}${l}`);
    }
  }
  const skip = Object.entries(skipped).sort(([a], [b]) => a.localeCompare(b));
  if (skip.length > 0) {
    out.push(`# Not proposed (a route would not fix these): ${skip.map(([k, n]) => `${n} × ${k}`).join(', ')}`);
  }
  if (droppedPaths > 0) out.push(`# ${droppedPaths} path${droppedPaths === 1 ? '' : 's'} held redacted text (a secret) and ${droppedPaths === 1 ? 'was' : 'were'} left out`);
  return `${out.join('\n')}\n`;
}
