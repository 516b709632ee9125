/**
 * Who holds which loopback alias (docs/decisions/loopback-alias-pool.md). On Linux all of 127/8 is
 * local, so the system cannot say which alias is in use: a claim file per alias says it, under
 * `<os.tmpdir()>/bot-bottle-loopback-aliases/` (host-wide, like the lock, so launches with
 * different BOT_BOTTLE_HOMEs still exclude each other). The claim is also the smolmachines bottle's
 * record (slug, machine, sidecar pid) that `list active` and `cleanup` read. A claim whose launcher
 * and sidecar are both gone is free again; an alias something already listens on is never handed
 * out, claimed or not.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BottleError } from '../errors.js';
import { SIDECAR_PORTS } from '../plan/bottle-plan.js';
import { canConnect } from '../util/can-connect.js';
import { readJsonDir, writeJsonAtomic } from '../util/json-dir.js';
import { withHostLock } from './host-lock.js';
import { aliasPool, exhaustedMessage, isPoolAlias, pickAlias } from './loopback-alias.js';
import { pidAlive } from '../util/pid-alive.js';

export const CLAIM_DIR = join(tmpdir(), 'bot-bottle-loopback-aliases');

export interface AliasClaim {
  schema: 'bot-bottle/alias-claim@1';
  alias: string;
  backend: string;
  slug: string;
  stateDir: string;
  ownerPid: number;
  sidecarPid: number | null;
  /** The VM (smolmachines) the alias is allowlisted for; '' until created. */
  machine: string;
  agent: string;
  label: string;
  color: string;
  bottles: string[];
  daemons: string[];
  headless: boolean;
  startedAt: string;
}

export interface ClaimOptions {
  /** Claims directory (tests use their own). */
  dir?: string;
  /** Whether something already listens on an alias; default: a connect to its egress port. */
  isBusy?: (alias: string) => Promise<boolean>;
}


/** A claim is live while its launcher or its sidecar supervisor runs. */
export const claimLive = (c: AliasClaim): boolean => pidAlive(c.ownerPid) || pidAlive(c.sidecarPid);

export function readClaims(dir = CLAIM_DIR): AliasClaim[] {
  return readJsonDir<AliasClaim>(dir, (c, n) => c.schema === 'bot-bottle/alias-claim@1' && isPoolAlias(c.alias) && n === `${c.alias}.json`);
}

export function writeClaim(claim: AliasClaim, dir = CLAIM_DIR): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // a reader in another process never sees half a claim
  writeJsonAtomic(join(dir, `${claim.alias}.json`), claim);
}

/** Removes the claim on `alias` if it is still `slug`'s (a reused alias is left to its new owner). */
export function releaseClaim(alias: string, slug: string, dir = CLAIM_DIR): void {
  const mine = readClaims(dir).find((c) => c.alias === alias);
  if (mine && mine.slug === slug) rmSync(join(dir, `${alias}.json`), { force: true });
}

const egressListening = (alias: string): Promise<boolean> => canConnect(alias, SIDECAR_PORTS.egress, 300);

/**
 * Picks the lowest free alias and writes `claim` for it, under the host-wide lock: two launches
 * racing never get the same alias. Throws the pool-exhausted error (naming the pool and the fix).
 */
export async function allocateAlias(claim: Omit<AliasClaim, 'alias'>, opts: ClaimOptions = {}): Promise<AliasClaim> {
  const dir = opts.dir ?? CLAIM_DIR;
  const isBusy = opts.isBusy ?? egressListening;
  return withHostLock(async () => {
    const claims = readClaims(dir);
    if (claims.some((c) => c.slug === claim.slug && claimLive(c))) {
      throw new BottleError('SLUG_IN_USE', `bottle ${claim.slug} already holds a loopback alias`, { fix: 'choose another label, or run "bot-bottle cleanup"' });
    }
    const used = new Set(claims.filter(claimLive).map((c) => c.alias));
    for (const alias of aliasPool()) {
      if (used.has(alias)) continue;
      // An orphaned sidecar (or anything else) still serving there: skip it, never share it.
      if (await isBusy(alias)) used.add(alias);
      else break;
    }
    const alias = pickAlias(used);
    if (alias === null) {
      const e = exhaustedMessage();
      throw new BottleError('LAUNCH_FAILED', e.message, { fix: e.fix });
    }
    const full: AliasClaim = { ...claim, alias };
    // Written before the lock is released: the claim is what marks the alias taken.
    writeClaim(full, dir);
    return full;
  });
}
