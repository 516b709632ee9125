/**
 * Validation of proposed routes (docs/supervise.md, "Applying approvals"): the routes-file schema
 * without credentials. Run by the host on every payload it applies or the operator edits — the
 * spool is writable by the sidecar, so the daemon's own validation is not trusted here. Pure.
 */
import { RoutesFileError, validateRoutesDoc } from '../../egress/routes-file.js';
import type { RoutesFileRoute } from '../../egress/routes-file-types.js';

export const MAX_PROPOSED_ROUTES = 20;
const CREDENTIAL_KEYS = ['auth', 'token_ref', 'token_env'];

export class ProposalInvalidError extends Error {}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `{routes: [...]}` (or the bare list, as the operator edits it) → validated routes.
 * `allowAuthSlots`: slots the operator may reuse in a modified route (those already in the live
 * table); the agent may never propose credentials.
 */
export function validateProposedRoutes(payload: unknown, opts: { allowAuthSlots?: ReadonlySet<string> } = {}): RoutesFileRoute[] {
  const routes = Array.isArray(payload) ? payload : isObj(payload) ? payload.routes : undefined;
  if (!Array.isArray(routes) || routes.length < 1 || routes.length > MAX_PROPOSED_ROUTES) {
    throw new ProposalInvalidError(`routes must be a list of 1 to ${MAX_PROPOSED_ROUTES} routes`);
  }
  routes.forEach((r, i) => {
    if (!isObj(r)) return;
    if (r.origin !== undefined) throw new ProposalInvalidError(`routes[${i}].origin: set by the host; remove it`);
    for (const k of CREDENTIAL_KEYS) {
      if (r[k] === undefined) continue;
      const slot = k === 'auth' && isObj(r.auth) ? r.auth.token_env : undefined;
      if (k === 'auth' && typeof slot === 'string' && opts.allowAuthSlots?.has(slot)) continue;
      throw new ProposalInvalidError(
        opts.allowAuthSlots
          ? `routes[${i}].${k}: only a token_env slot already in the live table (${[...opts.allowAuthSlots].join(', ') || 'none'}) can be reused; new credentials need a manifest change and a relaunch`
          : `routes[${i}].${k}: credentials cannot be proposed; ask the operator to change the bottle manifest`,
      );
    }
  });
  try {
    return validateRoutesDoc({ version: 1, generation: 0, bottle: '', log: 0, routes }).routes;
  } catch (err) {
    if (err instanceof RoutesFileError) throw new ProposalInvalidError(err.message);
    throw err;
  }
}

/** The Dockerfile of a `capability-block`: 1..65536 chars, no NUL, first instruction FROM. */
export function validateDockerfile(payload: unknown): string {
  const text = typeof payload === 'string' ? payload : isObj(payload) ? payload.dockerfile : undefined;
  if (typeof text !== 'string' || text.length < 1 || text.length > 65536) throw new ProposalInvalidError('dockerfile must be 1 to 65536 characters');
  if (text.includes('\0')) throw new ProposalInvalidError('dockerfile must not contain NUL bytes');
  const first = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#') && !/^ARG\b/i.test(l));
  if (!first || !/^FROM\s/i.test(first)) throw new ProposalInvalidError('the first instruction of the dockerfile (after comments and ARG) must be FROM');
  return text;
}
