/** Keys of older manifest formats; each fails with a migration hint (docs/configuration.md §8). */

export type LegacyLocation = 'bottle' | 'agent' | 'egress' | 'route' | 'repo';

const HINTS: Record<LegacyLocation, Record<string, string>> = {
  bottle: {
    runtime: '"runtime" was removed: runtime selection is automatic per backend (gVisor etc.); delete the key',
    cred_proxy: '"cred_proxy" was removed: credential routes moved to egress.routes[].auth',
    tokens: '"tokens" was removed: use egress.routes[].auth.token_ref',
    egress_proxy: '"egress_proxy" was renamed to "egress"',
    dlp_action: '"dlp_action" was removed: set it per route: dlp.outbound_on_match',
    git: '"git" was renamed to "git-gate" (user, repos); move the block and rename remotes to repos',
    supervise: '"supervise" was removed: supervision is always on; delete the key',
    ssh: '"ssh" was removed: declare repos under git-gate.repos',
  },
  agent: {
    git: '"git" was renamed to "git-gate" (user, repos); agents keep only git-gate.user',
  },
  egress: {
    allowlist: '"egress.allowlist" was removed: write each host as a route: - host: example.com',
    dlp_action: '"dlp_action" was removed: set it per route: dlp.outbound_on_match',
  },
  route: {
    path_allowlist: '"path_allowlist" was removed: use matches: [{paths: [{type: prefix, value: ...}]}]',
    pipelock:
      '"pipelock" was removed: pipelock is gone; tls_passthrough → route tls_passthrough, ssrf_ip_allowlist → route allow_private_cidrs',
    role: '"role" was removed: provider routes are automatic; use agent_provider.auth_token / forward_host_credentials',
  },
  repo: {
    identity: '"identity" was removed: use key: {provider: static, path: ...}',
    provisioned_key: '"provisioned_key" was removed: use key: {provider: gitea, provisioner_token: ...}',
  },
};

export function legacyHint(location: LegacyLocation, key: string): string | undefined {
  const table = HINTS[location];
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
