/**
 * What the agent may propose and what each tool returns (docs/architecture.md §7a). Pure: zod
 * schemas, declared to MCP clients as the tools' input and output schemas, plus the checks that
 * decide whether a proposal is filed at all. The route rules are egress's own routes-file
 * validator (src/egress/routes-file.ts), run on every proposed route, so a proposal that passes
 * here is a route egress will load — one place for those rules.
 */
import { z } from 'zod';
import { RoutesFileError, validateRoutesDoc } from '../egress/routes-file.js';
import type { RoutesFileRoute } from '../egress/routes-file-types.js';

export const MAX_PROPOSED_ROUTES = 20;
export const JUSTIFICATION = { min: 20, max: 4000 } as const;
export const MAX_DOCKERFILE = 65536;

export const CREDENTIALS_REFUSED = 'credentials cannot be proposed; ask the operator to change the bottle manifest';
const CREDENTIAL_KEYS = ['auth', 'token_ref', 'token_env'] as const;

const detectorList = <T extends string>(values: readonly [T, ...T[]]) => z.union([z.array(z.enum(values)), z.literal(false), z.literal('all')]);

const MatchSchema = z.strictObject({
  paths: z.array(z.strictObject({ type: z.enum(['exact', 'prefix', 'regex']), value: z.string() })).min(1).optional(),
  methods: z.array(z.string()).min(1).optional(),
  headers: z.array(z.strictObject({ name: z.string(), type: z.enum(['exact', 'regex']), value: z.string() })).min(1).optional(),
});

/** The routes-file route without credentials (`auth`) and without `origin` (the host sets it). */
export const ProposedRouteSchema = z.strictObject({
  host: z.string().min(1).describe('host name or IP literal; "*." prefix for a wildcard'),
  port: z.number().int().min(1).max(65535).optional(),
  matches: z.array(MatchSchema).min(1).optional(),
  tls_passthrough: z.boolean().optional(),
  allow_private_cidrs: z.array(z.string()).optional(),
  dlp: z
    .strictObject({
      outbound_detectors: detectorList(['token_patterns', 'known_secrets', 'entropy']),
      inbound_detectors: detectorList(['naive_injection_detection']),
      outbound_on_match: z.enum(['supervise', 'redact', 'block']),
    })
    .optional(),
  git: z.strictObject({ fetch: z.boolean() }).optional(),
});

const justification = z.string().min(JUSTIFICATION.min).max(JUSTIFICATION.max).describe('why the task needs this, for the operator');

export const EgressAllowInput = z.strictObject({
  routes: z.array(ProposedRouteSchema).min(1).max(MAX_PROPOSED_ROUTES),
  justification,
});

export const CapabilityBlockInput = z.strictObject({
  dockerfile: z.string().min(1).max(MAX_DOCKERFILE).describe('the complete Dockerfile of the agent image you need'),
  justification,
});

export const ListRoutesInput = z.strictObject({});

/** A route as `list-egress-routes` shows it: never a value, slot name or host variable name. */
export const RouteViewSchema = z.object({
  host: z.string(),
  port: z.number().int().nullable(),
  matches: z.array(z.record(z.string(), z.unknown())).nullable(),
  tls_passthrough: z.boolean(),
  authenticated: z.boolean(),
  auth_scheme: z.string().nullable(),
  dlp: z.record(z.string(), z.unknown()).nullable(),
  allow_private_cidrs: z.array(z.string()),
});

export const ListRoutesOutput = z.object({
  source: z.enum(['egress', 'file']),
  generation: z.number().int(),
  routes: z.array(RouteViewSchema),
});

export const DecisionOutput = z.object({
  status: z.enum(['approved', 'modified', 'rejected']),
  notes: z.string(),
  proposal_id: z.string(),
  routes: z.array(z.record(z.string(), z.unknown())).optional(),
  generation: z.number().int().optional(),
  dockerfile: z.string().optional(),
});

export type EgressAllow = z.infer<typeof EgressAllowInput>;
export type CapabilityBlock = z.infer<typeof CapabilityBlockInput>;
export type Decision = z.infer<typeof DecisionOutput>;
export type RouteView = z.infer<typeof RouteViewSchema>;

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

function issuesText(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(input)'}: ${i.message}`)
    .join('; ');
}

const invalid = (why: string): { ok: false; message: string } => ({ ok: false, message: `invalid proposal: ${why}` });

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `egress-allow` arguments → the proposal payload, or the one-line error the agent sees. */
export function checkEgressAllow(args: unknown): Checked<EgressAllow> {
  // Credentials first: a route naming one is refused for what it is, not as an unknown key.
  if (isObj(args) && Array.isArray(args.routes) && args.routes.some((r) => isObj(r) && CREDENTIAL_KEYS.some((k) => k in r))) {
    return { ok: false, message: CREDENTIALS_REFUSED };
  }
  const parsed = EgressAllowInput.safeParse(args);
  if (!parsed.success) return invalid(issuesText(parsed.error));
  try {
    validateRoutesDoc({ version: 1, generation: 1, bottle: 'proposal', log: 0, routes: parsed.data.routes as RoutesFileRoute[] });
  } catch (err) {
    if (err instanceof RoutesFileError) return invalid(err.message);
    throw err;
  }
  return { ok: true, value: parsed.data };
}

/** The first instruction other than comments, blank lines and `ARG` must be `FROM`. */
export function firstInstructionIsFrom(dockerfile: string): boolean {
  for (const raw of dockerfile.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const word = (/^(\S+)/.exec(line)?.[1] ?? '').toUpperCase();
    if (word === 'ARG') continue;
    return word === 'FROM';
  }
  return false;
}

export function checkCapabilityBlock(args: unknown): Checked<CapabilityBlock> {
  const parsed = CapabilityBlockInput.safeParse(args);
  if (!parsed.success) return invalid(issuesText(parsed.error));
  if (parsed.data.dockerfile.includes('\0')) return invalid('dockerfile: contains a NUL byte');
  if (!firstInstructionIsFrom(parsed.data.dockerfile)) return invalid('dockerfile: the first instruction (after comments, blank lines and ARG) must be FROM');
  return { ok: true, value: parsed.data };
}

export function checkListRoutes(args: unknown): Checked<Record<string, never>> {
  const parsed = ListRoutesInput.safeParse(args ?? {});
  return parsed.success ? { ok: true, value: {} } : invalid(issuesText(parsed.error));
}
