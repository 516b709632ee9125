/**
 * Test helpers: a temp BOT_BOTTLE_HOME with bottle state dirs, and spool files written by hand
 * exactly as the supervise daemon writes them (docs/supervise.md, "Spool").
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestHome {
  readonly home: string;
  spool(slug: string): string;
  stateDir(slug: string): string;
  cleanup(): void;
}

export function testHome(prefix = 'bb-sup-'): TestHome {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const home = join(root, 'home');
  mkdirSync(home, { mode: 0o700 });
  return {
    home,
    stateDir: (slug) => join(home, 'state', slug),
    spool: (slug) => {
      const dir = join(home, 'state', slug, 'supervise', 'spool');
      mkdirSync(join(dir, 'outbox'), { recursive: true, mode: 0o700 });
      mkdirSync(join(dir, 'inbox'), { recursive: true, mode: 0o700 });
      return dir;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

let counter = 0;
/** A ULID-shaped, increasing id. */
export function newId(): string {
  counter += 1;
  return `01JTEST${String(Date.now()).slice(-8)}${String(counter).padStart(11, '0')}`.slice(0, 26);
}

export interface FileOpts {
  id?: string;
  kind?: string;
  origin?: string;
  justification?: string | null;
  payload?: unknown;
  createdAt?: Date;
  ttlSeconds?: number;
}

/** Writes `outbox/<id>.json` (temp + rename, as the daemon does); returns the id. */
export function fileProposal(spoolDir: string, slug: string, o: FileOpts = {}): string {
  const id = o.id ?? newId();
  const created = o.createdAt ?? new Date();
  const doc = {
    v: 1,
    id,
    bottle: slug,
    kind: o.kind ?? 'egress-allow',
    origin: o.origin ?? 'agent',
    justification: o.justification === undefined ? 'the task needs the package index to install dependencies' : o.justification,
    payload: o.payload ?? { routes: [{ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['GET'] }] }] },
    created_at: created.toISOString(),
    expires_at: new Date(created.getTime() + (o.ttlSeconds ?? 600) * 1000).toISOString(),
  };
  mkdirSync(join(spoolDir, 'outbox'), { recursive: true, mode: 0o700 });
  const tmp = join(spoolDir, 'outbox', `.${id}.tmp`);
  writeFileSync(tmp, JSON.stringify(doc));
  renameSync(tmp, join(spoolDir, 'outbox', `${id}.json`));
  return id;
}

export function closeProposal(spoolDir: string, id: string, state: 'expired' | 'withdrawn'): void {
  writeFileSync(join(spoolDir, 'outbox', `${id}.closed.json`), JSON.stringify({ id, state, at: new Date().toISOString() }));
}

/**
 * A stopped bottle's state dir as the launch writes it: metadata.json (backend netns, not running),
 * live-config/routes.yaml, the spool. Returns the routes path.
 */
export function bottleState(t: TestHome, slug: string, routesYaml: string, opts: { color?: string } = {}): string {
  const dir = t.stateDir(slug);
  mkdirSync(join(dir, 'live-config'), { recursive: true, mode: 0o700 });
  writeFileSync(
    join(dir, 'metadata.json'),
    JSON.stringify({ schema_version: 1, identity: slug, agent_name: 'implementer', bottle_names: ['dev'], backend: 'netns', label: slug, color: opts.color ?? 'none', cwd: '/', copy_cwd: false, started_at: new Date().toISOString(), headless: true, template: 'claude', bot_bottle_version: '0.1.0' }),
  );
  const routes = join(dir, 'live-config', 'routes.yaml');
  writeFileSync(routes, routesYaml);
  t.spool(slug);
  return routes;
}

export const LIVE_ROUTES = `version: 1
generation: 4
bottle: alpha-1
log: 1
routes:
  - host: api.anthropic.com
    auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}
    origin: provider
  - host: api.github.com
    auth: {scheme: token, token_env: EGRESS_TOKEN_1}
    matches:
      - paths: [{type: prefix, value: /repos/acme/}]
        methods: [GET]
    origin: manifest
`;
