/**
 * The text the operator edits for `modify` (docs/supervise.md): routes as YAML, or the
 * Dockerfile; parsed back and validated with the same validators as a proposal (a modified route
 * may reuse an `auth` slot already in the live table, nothing else). Pure.
 */
import { parseDocument, stringify } from 'yaml';
import type { ProposalKind } from '../store/types.js';
import { ProposalInvalidError, validateDockerfile, validateProposedRoutes } from './route-proposal.js';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function editableText(kind: ProposalKind, payload: unknown): string {
  const pl = isObj(payload) ? payload : {};
  if (kind === 'capability-block') return typeof pl.dockerfile === 'string' ? pl.dockerfile : '';
  return `# Edit the proposed routes, save and quit to approve them as modified.\n# Credentials cannot be added (only an auth slot already in the live table may be reused).\n${stringify(pl.routes ?? [], { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/** Edited text → the modified payload; throws ProposalInvalidError with a one-line reason. */
export function parseEditedText(kind: ProposalKind, text: string, liveSlots: ReadonlySet<string>): Record<string, unknown> {
  if (kind === 'capability-block') return { dockerfile: validateDockerfile(text) };
  if (kind !== 'egress-allow') throw new ProposalInvalidError(`${kind} proposals cannot be modified`);
  const doc = parseDocument(text, { schema: 'core', uniqueKeys: true });
  const first = doc.errors[0];
  if (first) throw new ProposalInvalidError(`YAML: ${first.message.split('\n')[0]}`);
  const routes = doc.toJS({ maxAliasCount: 0 }) as unknown;
  return { routes: validateProposedRoutes(routes, { allowAuthSlots: liveSlots }) };
}
