/** Hand-built BottlePlans for backend and launch tests (no manifest or provider involved). */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT, GUEST_HOME, type BottlePlan, type DaemonName } from '../../../src/plan/bottle-plan.js';

export const STANDIN_SIDECAR = fileURLToPath(new URL('../fixtures/standin-sidecar.mjs', import.meta.url));

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'bb-backend-'));
}

export function makePlan(home: string, slug: string, over: Partial<BottlePlan> & { daemons?: DaemonName[]; agentEnv?: Record<string, string>; sidecarEnv?: Record<string, string> } = {}): BottlePlan {
  const stateDir = join(home, 'state', slug);
  mkdirSync(join(stateDir, 'logs'), { recursive: true, mode: 0o700 });
  mkdirSync(join(stateDir, 'run'), { recursive: true, mode: 0o700 });
  const { daemons, agentEnv, sidecarEnv, ...rest } = over;
  return {
    schema: 'bot-bottle/bottle-plan@1',
    slug,
    label: slug,
    color: 'none',
    agentName: 'tester',
    bottleNames: ['test'],
    backend: 'netns',
    headless: true,
    home,
    stateDir,
    cwd: home,
    copyCwd: false,
    workdir: GUEST_HOME,
    agent: {
      env: {
        HTTP_PROXY: 'http://egress:9099', HTTPS_PROXY: 'http://egress:9099', http_proxy: 'http://egress:9099', https_proxy: 'http://egress:9099',
        NO_PROXY: 'localhost,127.0.0.1,git-gate,supervise', no_proxy: 'localhost,127.0.0.1,git-gate,supervise',
        BOT_BOTTLE_SLUG: slug, ...agentEnv,
      },
      interactiveArgv: ['/bin/sh'],
      resumeArgv: ['/bin/sh'],
      headlessArgv: ['/bin/sh', '-c', '{{prompt}}'],
      headlessResumeArgv: ['/bin/sh', '-c', '{{prompt}}'],
      files: [],
      skills: [],
      mcpRegisterArgv: null,
      transcriptPaths: [],
      gitConfig: [],
      image: { tag: 'none', dockerfile: null, context: null },
    },
    ca: { hostCertPath: join(stateDir, 'egress', 'ca.pem'), hostKeyPath: join(stateDir, 'egress', 'ca-key.pem'), guestCertPath: GUEST_CA_CERT, guestBundlePath: GUEST_CA_BUNDLE },
    sidecar: { daemons: daemons ?? ['egress'], configDir: stateDir, env: sidecarEnv ?? {} },
    ...rest,
  };
}

export const standinCommand = (args: string[]) => ({ command: process.execPath, args: [STANDIN_SIDECAR, ...args] });
