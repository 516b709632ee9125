/**
 * Layout of `<home>/state/<slug>/` (docs/architecture.md §5; daemon paths:
 * docs/architecture.md §7).
 */
import { join } from 'node:path';

export function stateRoot(home: string): string {
  return join(home, 'state');
}

export function stateDirFor(home: string, slug: string): string {
  return join(stateRoot(home), slug);
}

/** Entries inside one state dir, relative names in one place so every module agrees. */
export const STATE_ENTRIES = {
  metadata: 'metadata.json',
  session: 'session.json',
  preserve: '.preserve',
  egressDir: 'egress',
  caCert: 'egress/ca.pem',
  caKey: 'egress/ca-key.pem',
  liveConfigDir: 'live-config',
  routesFile: 'live-config/routes.yaml',
  gitGateDir: 'git-gate',
  gitGateConfig: 'git-gate/config.yaml',
  superviseSpool: 'supervise/spool',
  runDir: 'run',
  logsDir: 'logs',
  providerDir: 'provider',
  dockerfile: 'Dockerfile',
  /** `commit`'s image record (docker); at resume it wins over `Dockerfile` (docs/cli.md, `resume`). */
  committedImage: 'committed-image',
} as const;
