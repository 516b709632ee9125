/**
 * Gitea deploy keys around a launch (docs/decisions/gate-gitea-keys.md; docs/architecture.md §4.5):
 * registered right after the state dir is written (so a later failure still revokes them), revoked
 * at teardown. The provisioner token is read from the host env here — host-side launch code, never
 * a backend — and only by the names the bottle declared; it is never a sidecar slot.
 */
import { join } from 'node:path';
import { BottleError } from '../errors.js';
import { provisionGiteaKeys, revokeGiteaKeys, type FetchLike } from '../gate/gitea.js';
import type { GitGateRepo } from '../manifest/types.js';
import { materializeState } from '../plan/materialize.js';
import type { PreparedLaunch } from '../plan/prepare.js';
import { STATE_ENTRIES } from '../state/paths.js';

export interface DeployKeyHooks {
  materialize?: () => Promise<unknown>;
  revoke?: () => Promise<void>;
}

function provisionerTokens(repos: readonly GitGateRepo[], hostEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of repos) {
    if (r.key?.provider !== 'gitea') continue;
    const v = hostEnv[r.key.provisionerToken];
    if (v) out[r.key.provisionerToken] = v;
  }
  return out;
}

/**
 * runLaunch's `materialize` and `revoke` hooks: `writeState` (a new launch's materializeState, or
 * resume's re-write) followed by key registration; revocation at teardown.
 */
export function deployKeyHooks(
  prepared: PreparedLaunch,
  hostEnv: Readonly<Record<string, string | undefined>>,
  writeState: () => Promise<unknown> = () => materializeState(prepared),
  opts: { fetch?: FetchLike } = {},
): DeployKeyHooks {
  const repos = prepared.view.selected.config.gitGate.repos.filter((r) => r.key?.provider === 'gitea');
  if (repos.length === 0) return { materialize: writeState };
  const gateDir = join(prepared.plan.stateDir, STATE_ENTRIES.gitGateDir);
  const tokens = provisionerTokens(repos, hostEnv);
  return {
    materialize: async () => {
      await writeState();
      await provisionGiteaKeys(repos, prepared.plan.slug, gateDir, tokens, opts.fetch);
    },
    revoke: async () => {
      const report = await revokeGiteaKeys(gateDir, tokens, opts.fetch ? { fetch: opts.fetch } : {});
      if (report.failed.length > 0) {
        throw new BottleError('TEARDOWN_FAILED', report.failed.map((f) => f.message).join('\n'), {
          fix: 'bot-bottle cleanup retries the revocation',
        });
      }
    },
  };
}
