/**
 * Plan validation for every provider (docs/architecture.md §4.3, step 3). A provider — built-in or
 * plugin — is untrusted data here: it may not touch the env names the pipeline owns, write outside
 * the guest home, claim a reference it does not own, or leak a credential it read into the guest.
 * Pure.
 */
import { posix } from 'node:path';
import { validateRoute } from '../manifest/route-schema.js';
import type { Route } from '../manifest/types.js';
import { ProviderConfigError } from '../providers/errors.js';
import { PROMPT_PLACEHOLDER, type ProvisionPlan, type ProviderRoute } from '../providers/types.js';
import { GUEST_CA_BUNDLE, GUEST_HOME } from './bottle-plan.js';
import { ENV_NAME, isReservedEnvName, isReservedReference, providerRefPrefix } from './reserved-names.js';

const BAD_CHAR = /[\r\n\0]/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'cookie']);
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export interface PlanValidationInput {
  readonly plan: ProvisionPlan;
  readonly template: string;
  /** Fixed synthetic references this provider owns (besides its BOT_BOTTLE_PROVIDER_<NAME>_ prefix). */
  readonly syntheticRefs: readonly string[];
  /** Every built-in provider's fixed synthetic references (registry ALL_FIXED_SYNTHETIC_REFS). */
  readonly reservedRefs: readonly string[];
}

function insideGuestHome(path: string): boolean {
  if (!path.startsWith('/')) return false;
  const n = posix.normalize(path);
  return n.startsWith(`${GUEST_HOME}/`) && n === path.replace(/\/+$/, '');
}

function validHost(host: string): boolean {
  if (host !== host.toLowerCase()) return false;
  if (IPV4.test(host)) return true;
  if (host.includes(':')) return /^[0-9a-f:.]+$/.test(host);
  if (host.startsWith('*.')) {
    const rest = host.slice(2);
    return rest.split('.').length >= 2 && DNS_NAME.test(rest);
  }
  return DNS_NAME.test(host);
}

/** A provider Route back in its manifest (snake_case) spelling, so the manifest validator judges it. */
function toRawRoute(r: Route): Record<string, unknown> {
  const raw: Record<string, unknown> = { host: r.host };
  if (r.port !== undefined) raw.port = r.port;
  if (r.matches !== undefined) raw.matches = r.matches.map((m) => ({ ...m }));
  if (r.auth !== undefined) raw.auth = { scheme: r.auth.scheme, token_ref: r.auth.tokenRef, ...(r.auth.header !== undefined ? { header: r.auth.header } : {}) };
  if (r.tlsPassthrough) raw.tls_passthrough = true;
  if (r.git && r.git.fetch === false) raw.git = { fetch: false };
  const dlp: Record<string, unknown> = {};
  if (r.dlp?.outboundDetectors !== undefined) dlp.outbound_detectors = r.dlp.outboundDetectors.length === 0 ? false : [...r.dlp.outboundDetectors];
  if (r.dlp?.inboundDetectors !== undefined) dlp.inbound_detectors = r.dlp.inboundDetectors.length === 0 ? false : [...r.dlp.inboundDetectors];
  if (r.dlp?.outboundOnMatch !== undefined) dlp.outbound_on_match = r.dlp.outboundOnMatch;
  if (Object.keys(dlp).length > 0) raw.dlp = dlp;
  if (r.allowPrivateCidrs && r.allowPrivateCidrs.length > 0) raw.allow_private_cidrs = [...r.allowPrivateCidrs];
  return raw;
}

function checkRoute(
  fail: (m: string) => never,
  r: ProviderRoute,
  i: number,
  own: { has(ref: string): boolean },
  reserved: ReadonlySet<string>,
  provisioned: Readonly<Record<string, string>>,
): void {
  const at = `egressRoutes[${i}]`;
  try {
    validateRoute(toRawRoute(r), { keyPath: at, allowTokenRef: (name) => own.has(name) });
  } catch (err) {
    fail(`route validation: ${err instanceof Error ? err.message.replace(/^[^:]*:\d+:\d+: /, '') : String(err)}`);
  }
  if (typeof r.host !== 'string' || !validHost(r.host)) fail(`${at}.host is not a lower-case host name, wildcard (*. + two labels) or IP literal`);
  if (r.port !== undefined && (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535)) fail(`${at}.port must be an integer 1-65535`);
  if (r.matches !== undefined && r.matches.length === 0) fail(`${at}.matches must not be empty`);
  if (r.tlsPassthrough && (r.auth !== undefined || r.matches !== undefined || Object.keys(r.dlp ?? {}).length > 0)) {
    fail(`${at}: tls_passthrough cannot be combined with auth, matches or dlp`);
  }
  if (r.weak === true && r.auth !== undefined) fail(`${at}: an authenticated route cannot be weak`);
  const a: Route['auth'] = r.auth;
  if (a !== undefined) {
    if (!['Bearer', 'token', 'Basic', 'header'].includes(a.scheme)) fail(`${at}.auth.scheme must be one of Bearer, token, Basic, header`);
    if (a.scheme === 'header' ? !a.header || HOP_BY_HOP.has(a.header.toLowerCase()) : a.header !== undefined) {
      fail(`${at}.auth.header is required (and must be an ordinary header) with scheme header, and forbidden otherwise`);
    }
    if (!ENV_NAME.test(a.tokenRef)) fail(`${at}.auth.token_ref is not a valid variable name`);
    if (isReservedReference(a.tokenRef, reserved)) {
      if (!own.has(a.tokenRef)) fail(`${at}.auth.token_ref ${a.tokenRef} is a reserved reference this provider does not own`);
      // Otherwise it would silently resolve from the operator's environment.
      if (provisioned[a.tokenRef] === undefined) fail(`${at}.auth.token_ref ${a.tokenRef} is not in provisionedEnv`);
    }
  }
}

export function validateProvisionPlan({ plan, template, syntheticRefs, reservedRefs }: PlanValidationInput): void {
  const fail = (message: string): never => {
    throw new ProviderConfigError(template, `invalid provision plan: ${message}`, 'this is a bug in the provider; report it to its author');
  };
  const p = plan as Partial<ProvisionPlan>;
  for (const field of ['template', 'image', 'interactiveArgv', 'resumeArgv', 'headlessArgv', 'headlessResumeArgv', 'guestEnv', 'hiddenEnvNames', 'files', 'skillsDir', 'transcriptPaths', 'mcpRegisterArgv', 'egressRoutes', 'provisionedEnv', 'notes'] as const) {
    if (p[field] === undefined) fail(`${field} is missing`);
  }
  if (plan.template !== template) fail(`template is "${plan.template}", expected "${template}"`);
  if (typeof plan.image.tag !== 'string' || plan.image.tag === '') fail('image.tag is missing');

  const argvs: Array<[string, readonly string[]]> = [
    ['interactiveArgv', plan.interactiveArgv],
    ['resumeArgv', plan.resumeArgv],
    ['headlessArgv', plan.headlessArgv],
    ['headlessResumeArgv', plan.headlessResumeArgv],
  ];
  if (plan.mcpRegisterArgv !== null) argvs.push(['mcpRegisterArgv', plan.mcpRegisterArgv]);
  for (const [name, argv] of argvs) {
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string' || a.includes('\0'))) fail(`${name} must be a non-empty list of strings`);
  }
  for (const name of ['headlessArgv', 'headlessResumeArgv'] as const) {
    if (plan[name].filter((a) => a === PROMPT_PLACEHOLDER).length !== 1) fail(`${name} must contain ${PROMPT_PLACEHOLDER} exactly once`);
  }

  for (const [name, value] of Object.entries(plan.guestEnv)) {
    if (!ENV_NAME.test(name)) fail(`guestEnv name "${name}" is not a valid variable name`);
    if (typeof value !== 'string' || value.includes('\0')) fail(`guestEnv ${name} must be a string without NUL`);
    if (name === 'CODEX_CA_CERTIFICATE') {
      if (value !== GUEST_CA_BUNDLE) fail(`guestEnv CODEX_CA_CERTIFICATE must equal ${GUEST_CA_BUNDLE}`);
    } else if (isReservedEnvName(name)) {
      fail(`guestEnv sets ${name}, which bot-bottle owns`);
    }
  }
  for (const name of plan.hiddenEnvNames) {
    if (!Object.prototype.hasOwnProperty.call(plan.guestEnv, name)) fail(`hiddenEnvNames names ${name}, which guestEnv does not set`);
  }
  plan.files.forEach((f, i) => {
    if (typeof f.path !== 'string' || !insideGuestHome(f.path)) fail(`files[${i}].path must be an absolute path inside ${GUEST_HOME}`);
    if (typeof f.content !== 'string') fail(`files[${i}].content must be a string`);
    if (f.mode !== undefined && (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o777)) fail(`files[${i}].mode must be a permission mode`);
  });
  if (!insideGuestHome(plan.skillsDir)) fail(`skillsDir must be inside ${GUEST_HOME}`);
  plan.transcriptPaths.forEach((t, i) => {
    if (!insideGuestHome(t)) fail(`transcriptPaths[${i}] must be inside ${GUEST_HOME}`);
  });

  const prefix = providerRefPrefix(template);
  const own = new Set(syntheticRefs);
  for (const [key, value] of Object.entries(plan.provisionedEnv)) {
    const owned = own.has(key) || (key.startsWith(prefix) && /^[A-Z0-9_]+$/.test(key.slice(prefix.length)) && key.length > prefix.length);
    if (!owned) fail(`provisionedEnv key ${key} is not a reserved synthetic reference (use ${prefix}<X>)`);
    if (typeof value !== 'string' || value === '' || BAD_CHAR.test(value)) fail(`provisionedEnv ${key} is empty or contains CR, LF or NUL`);
  }
  const ownRefs = { has: (ref: string) => own.has(ref) || ref.startsWith(prefix) };
  plan.egressRoutes.forEach((r, i) => checkRoute(fail, r, i, ownRefs, new Set(reservedRefs), plan.provisionedEnv));
  // (host, port) unique among the provider's own routes; an unset port occupies 443 and 80.
  const seen = new Map<string, number>();
  plan.egressRoutes.forEach((r, i) => {
    for (const port of r.port === undefined ? [443, 80] : [r.port]) {
      const key = `${r.host.toLowerCase()}:${port}`;
      const first = seen.get(key);
      if (first !== undefined && first !== i) fail(`egressRoutes[${first}] and egressRoutes[${i}] both route ${key}; merge them into one route`);
      seen.set(key, i);
    }
  });

  // A credential the provider read must never reach the guest (env, files, argv).
  for (const [key, value] of Object.entries(plan.provisionedEnv)) {
    for (const [name, v] of Object.entries(plan.guestEnv)) if (v.includes(value)) fail(`provisionedEnv ${key} appears in guestEnv ${name}`);
    plan.files.forEach((f, i) => {
      if (f.content.includes(value) || f.path.includes(value)) fail(`provisionedEnv ${key} appears in files[${i}]`);
    });
    for (const [name, argv] of argvs) if (argv.some((a) => a.includes(value))) fail(`provisionedEnv ${key} appears in ${name}`);
  }
}
