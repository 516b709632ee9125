/**
 * `bot-bottle demo` as a library (docs/cli.md#commands): a temporary BOT_BOTTLE_HOME, stand-in
 * upstreams with their own CA, a real bottle on the chosen backend with the real sidecar bundle, a
 * script agent, four judged steps, teardown. Never prints: returns the steps.
 *
 * The plan is assembled here rather than from manifests: the demo agent is a script, not a
 * provider CLI, and the test-only sidecar settings (EGRESS_RESOLVE, *_UPSTREAM_CA_FILE) must
 * never be reachable from a manifest.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../backends/backend.js';
import { createBottleCa, writeBottleCa } from '../../egress/ca.js';
import { renderRoutesFile } from '../../egress/routes-file.js';
import { buildAgentEnv } from '../../plan/agent-env.js';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT, GUEST_HOME, type BottlePlan } from '../../plan/bottle-plan.js';
import { BUNDLED_DOCKER_DIR } from '../../providers/paths.js';
import { runLaunch } from '../run.js';
import { demoAgentScript } from './agent-script.js';
import { DEMO_API_HOST, DEMO_GIT_HOST, startDemoUpstreams } from './upstreams.js';

export interface DemoStep {
  id: number;
  title: string;
  passed: boolean;
  detail: string;
}

export interface DemoResult {
  schema: 'bot-bottle/demo@1';
  backend: string;
  steps: DemoStep[];
  home: string | null; // kept home (--keep), else null
}

export const DEMO_TITLES = ['allowed + injected', 'blocked host', 'blocked exfiltration', 'rejected secret push'] as const;

function fakeAwsKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return `AKIA${[...randomBytes(16)].map((b) => alphabet[b % 32]).join('')}`;
}

function line(out: string, tag: string): string {
  return (new RegExp(`^${tag} ?(.*)$`, 'm').exec(out)?.[1] ?? '').trim();
}

export async function runDemo(opts: {
  backend: Backend;
  keep?: boolean;
  signal?: AbortSignal;
  onProgress?(message: string): void;
}): Promise<DemoResult> {
  const home = mkdtempSync(join(tmpdir(), 'bot-bottle-demo-'));
  const work = join(home, 'upstreams');
  mkdirSync(work, { recursive: true });
  const demoToken = `demo-${randomBytes(18).toString('base64url')}`;
  const canary = randomBytes(32).toString('base64url');
  const key = fakeAwsKey();
  const slug = `demo-${randomBytes(4).toString('hex').slice(0, 5)}`;
  const stateDir = join(home, 'state', slug);
  const upstreams = await startDemoUpstreams(work, demoToken);
  try {
    const headBefore = upstreams.headRef();
    const env = buildAgentEnv({ slug, label: 'demo', color: 'none', canary, providerEnv: {}, providerName: 'demo', manifestEnv: {} }).env;
    const plan: BottlePlan = {
      schema: 'bot-bottle/bottle-plan@1', slug, label: 'demo', color: 'none', agentName: 'demo', bottleNames: ['demo'],
      backend: opts.backend.name, headless: true, home, stateDir, cwd: home, copyCwd: false, workdir: GUEST_HOME,
      agent: {
        env, interactiveArgv: ['/bin/sh'], resumeArgv: ['/bin/sh'],
        headlessArgv: ['/bin/sh', '-c', '{{prompt}}'], headlessResumeArgv: ['/bin/sh', '-c', '{{prompt}}'],
        files: [], skills: [], mcpRegisterArgv: null, transcriptPaths: [], gitConfig: [],
        // Backends that run images (docker) build this one; the others ignore it.
        image: { tag: 'bot-bottle-demo:latest', dockerfile: null, context: null, defaultDockerfile: join(BUNDLED_DOCKER_DIR, 'Dockerfile.demo') },
      },
      ca: { hostCertPath: join(stateDir, 'egress', 'ca.pem'), hostKeyPath: join(stateDir, 'egress', 'ca-key.pem'), guestCertPath: GUEST_CA_CERT, guestBundlePath: GUEST_CA_BUNDLE },
      sidecar: {
        daemons: ['egress', 'git-gate'],
        configDir: stateDir,
        env: {
          EGRESS_RESOLVE: `${DEMO_API_HOST}=${upstreams.address}`,
          EGRESS_UPSTREAM_CA_FILE: upstreams.caFile,
          GIT_GATE_RESOLVE: `${DEMO_GIT_HOST}=${upstreams.address}`,
          GIT_GATE_UPSTREAM_CA_FILE: upstreams.caFile,
        },
      },
    };
    const materialize = async () => {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      await writeBottleCa(join(stateDir, 'egress'), await createBottleCa(slug, new Date()));
      mkdirSync(join(stateDir, 'live-config'), { mode: 0o700 });
      writeFileSync(
        join(stateDir, 'live-config', 'routes.yaml'),
        renderRoutesFile({
          version: 1, generation: 1, bottle: slug, log: 1,
          routes: [{
            host: DEMO_API_HOST,
            auth: { scheme: 'Bearer', token_env: 'EGRESS_TOKEN_0' },
            allow_private_cidrs: ['127.0.0.0/8'], // the stand-in lives on loopback
            dlp: { outbound_detectors: ['token_patterns', 'known_secrets'], inbound_detectors: false, outbound_on_match: 'block' },
            origin: 'manifest',
          }],
        }),
        { mode: 0o644 },
      );
      mkdirSync(join(stateDir, 'git-gate'), { mode: 0o700 });
      writeFileSync(join(stateDir, 'git-gate', 'config.yaml'), `version: 1\nrepos:\n  - name: demo\n    url: https://${DEMO_GIT_HOST}/demo.git\n`, { mode: 0o644 });
      for (const d of ['supervise/spool', 'run', 'logs']) mkdirSync(join(stateDir, d), { recursive: true, mode: 0o700 });
    };
    let out = '';
    const result = await runLaunch(
      { plan, secrets: { EGRESS_TOKEN_0: demoToken, EGRESS_TOKEN_CANARY: canary, GIT_GATE_CANARY: canary } },
      {
        backend: opts.backend,
        prompt: demoAgentScript(key),
        materialize,
        keepState: opts.keep === true,
        ...(opts.signal ? { signal: opts.signal } : {}),
        onEvent: (e) => (e.type === 'progress' || e.type === 'ready' ? opts.onProgress?.(e.message) : undefined),
        onOutput: (_s, c) => {
          out += Buffer.from(c).toString();
        },
      },
    );

    const s1 = line(out, 'STEP1');
    const agentEnv = line(out, 'ENV');
    const step1 = s1.includes('"sawDemoToken":true') && upstreams.sawToken && !out.includes(demoToken);
    const [connect, ...body] = line(out, 'STEP2').split(' ');
    const step2 = connect === '403' && body.join(' ').startsWith('egress:');
    const s3 = line(out, 'STEP3');
    const step3 = s3 === '403' && !upstreams.received.some((r) => r.includes(key));
    const s4 = line(out, 'STEP4');
    const step4 = s4.startsWith('rejected') && upstreams.headRef() === headBefore;
    const steps: DemoStep[] = [
      { id: 1, title: DEMO_TITLES[0], passed: step1, detail: step1 ? 'the stand-in received the demo Bearer token; the agent never held it' : `agent saw: ${s1 || '(nothing)'}${agentEnv.includes(demoToken) ? ' (token visible to the agent!)' : ''}` },
      { id: 2, title: DEMO_TITLES[1], passed: step2, detail: step2 ? `403 ${body.join(' ')}` : `CONNECT ${connect ?? '?'}; body ${body.join(' ') || '(none)'}` },
      { id: 3, title: DEMO_TITLES[2], passed: step3, detail: step3 ? 'an AWS-shaped key in a POST body got 403 from DLP; the stand-in never received it' : `status ${s3 || '(none)'}` },
      { id: 4, title: DEMO_TITLES[3], passed: step4, detail: step4 ? `${s4.slice(9) || 'git-gate refused the push'}; upstream main unchanged` : `push: ${s4 || '(no result)'}` },
    ];
    if (result.exitCode !== 0) steps.forEach((st) => (st.detail += `; agent exited ${result.exitCode}`));
    return { schema: 'bot-bottle/demo@1', backend: opts.backend.name, steps, home: opts.keep ? home : null };
  } finally {
    await upstreams.close();
    if (!opts.keep) rmSync(home, { recursive: true, force: true });
  }
}
