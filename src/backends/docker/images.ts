/**
 * The images a docker bottle runs (docs/configuration.md, "The docker backend"): the sidecar image
 * `bot-bottle-sidecars:<version>` built from the package's own compiled code, and the agent image
 * the plan names (the provider's `bot-bottle-<provider>:latest`, or a per-bottle / manifest /
 * plugin Dockerfile). Both are built locally with the classic builder, layer-cached, and labelled
 * with a content key, so a launch rebuilds only when the inputs changed. Build output goes to
 * state/<slug>/logs/build.log; each `Step n/m` line is relayed as progress.
 */
import { cpSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeSync, mkdirSync, constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { BottleError } from '../../errors.js';
import type { BottlePlan } from '../../plan/bottle-plan.js';
import { compiledMain } from '../../sidecar/self-command.js';
import { VERSION } from '../../version.js';
import type { Docker } from './engine.js';
import type { EngineApi } from './engine-api.js';
import { distKey, productionPackages } from './package-files.js';

export const SIDECAR_IMAGE = `bot-bottle-sidecars:${VERSION}`;
const KEY_LABEL = 'bot-bottle.content';

/** Package root of the running bot-bottle: dist/bundle/sidecar.js → the directory holding dist/. */
export function packageRoot(): string {
  return dirname(dirname(dirname(compiledMain())));
}

/** assets/docker/ of the package (Dockerfiles, stand-in agent). */
export function assetsDir(): string {
  return join(packageRoot(), 'assets', 'docker');
}

export interface BuildSettings {
  /** BOT_BOTTLE_BASE_IMAGE: the BASE_IMAGE build argument; null = the Dockerfiles' default. */
  baseImage: string | null;
  /** BOT_BOTTLE_AGENT_SOURCE: `npm` (default) or `stand-in` (CI). */
  agentSource: 'npm' | 'stand-in';
}

export function buildSettings(env: NodeJS.ProcessEnv = process.env): BuildSettings {
  const src = env.BOT_BOTTLE_AGENT_SOURCE ?? 'npm';
  if (src !== 'npm' && src !== 'stand-in') {
    throw new BottleError('USAGE', `BOT_BOTTLE_AGENT_SOURCE must be "npm" or "stand-in" (got "${src}")`, { fix: 'unset it to install the real agent CLI' });
  }
  return { baseImage: env.BOT_BOTTLE_BASE_IMAGE || null, agentSource: src };
}

interface ImageDoc {
  Id?: string;
  Config?: { Labels?: Record<string, string> | null };
}

/** The image's content-key label ('' when unlabelled), or null when the engine has no such image. */
async function imageKey(api: EngineApi, tag: string): Promise<string | null> {
  const j = await api.json<ImageDoc>(imagePath(tag));
  return j === null ? null : j.Config?.Labels?.[KEY_LABEL] ?? '';
}

export async function imageExists(api: EngineApi, ref: string): Promise<boolean> {
  return (await api.json<ImageDoc>(imagePath(ref))) !== null;
}

/** `/images/<ref>/json`: the route takes the reference as is, slashes and tag included. */
export function imagePath(ref: string): string {
  return `/images/${encodeURI(ref).replace(/[?#]/g, encodeURIComponent)}/json`;
}

interface BuildJob {
  tag: string;
  dockerfile: string;
  context: string;
  key: string;
  args: Record<string, string>;
  logPath: string;
  what: string;
}

async function build(docker: Docker, job: BuildJob, onProgress: (m: string) => void): Promise<void> {
  mkdirSync(dirname(job.logPath), { recursive: true, mode: 0o700 });
  const fd = openSync(job.logPath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `== ${new Date().toISOString()} building ${job.tag} (${job.what}) from ${job.dockerfile}\n`);
    const args = ['build', '-t', job.tag, '-f', job.dockerfile, '--label', `${KEY_LABEL}=${job.key}`];
    for (const [k, v] of Object.entries(job.args)) args.push('--build-arg', `${k}=${v}`);
    args.push(job.context);
    onProgress(`building image ${job.tag}`);
    const child = docker.spawn(args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tailText = '';
    const onData = (c: Buffer) => {
      writeSync(fd, c);
      tailText = (tailText + c.toString()).slice(-4000);
      for (const m of c.toString().matchAll(/^Step (\d+\/\d+) : (.{0,60})/gm)) onProgress(`building image ${job.tag}: step ${m[1]} ${m[2]}`);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const code = await new Promise<number>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('close', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      const last = tailText.trim().split('\n').filter((l) => l.trim() !== '').slice(-1)[0] ?? '';
      throw new BottleError('LAUNCH_FAILED', `building image ${job.tag} failed (exit ${code}): ${last.slice(0, 300)}`, { fix: `see ${job.logPath}` });
    }
  } finally {
    closeSync(fd);
  }
}

function baseArgs(s: BuildSettings): Record<string, string> {
  return s.baseImage ? { BASE_IMAGE: s.baseImage } : {};
}

function hashOf(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p}\0`);
  return h.digest('hex').slice(0, 16);
}

/** Builds `bot-bottle-sidecars:<version>` unless the current one was built from this dist/. */
export async function ensureSidecarImage(docker: Docker, api: EngineApi, s: BuildSettings, logPath: string, onProgress: (m: string) => void): Promise<string> {
  const root = packageRoot();
  const dockerfile = join(assetsDir(), 'Dockerfile.sidecars');
  const key = hashOf(distKey(root), readFileSync(dockerfile, 'utf8'), s.baseImage ?? '');
  if ((await imageKey(api, SIDECAR_IMAGE)) === key) return SIDECAR_IMAGE;
  const ctx = mkdtempSync(join(tmpdir(), 'bb-sidecar-ctx-'));
  try {
    const pkg = join(ctx, 'package');
    mkdirSync(pkg);
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
    for (const dir of productionPackages(root)) {
      cpSync(dir, join(pkg, relative(root, dir)), { recursive: true, dereference: true });
    }
    await build(docker, { tag: SIDECAR_IMAGE, dockerfile, context: ctx, key, args: baseArgs(s), logPath, what: 'sidecars' }, onProgress);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return SIDECAR_IMAGE;
}

/** Builds the plan's agent image unless the current one was built from the same inputs. */
export async function ensureAgentImage(docker: Docker, api: EngineApi, plan: BottlePlan, s: BuildSettings, logPath: string, onProgress: (m: string) => void): Promise<string> {
  const img = plan.agent.image;
  const dockerfile = img.dockerfile ?? img.defaultDockerfile ?? null;
  if (dockerfile === null) {
    if (await imageExists(api, img.tag)) return img.tag;
    throw new BottleError('LAUNCH_FAILED', `agent image ${img.tag} is not present and the provider ships no Dockerfile`, { fix: `build or load ${img.tag}` });
  }
  let text: string;
  try {
    text = readFileSync(dockerfile, 'utf8');
  } catch {
    throw new BottleError('LAUNCH_FAILED', `agent Dockerfile ${dockerfile} cannot be read`, { fix: 'check the path the bottle names' });
  }
  // An approved capability Dockerfile lives in state/<slug>/, next to deploy keys and the CA: it
  // builds with an empty context, so no COPY can bake host state into the image the agent runs.
  const emptyContext = img.source === 'state-override';
  const context = emptyContext ? null : (img.context ?? dirname(dockerfile));
  const args = { ...baseArgs(s), AGENT_SOURCE: s.agentSource };
  const key = hashOf(text, context ?? '(empty context)', JSON.stringify(args));
  if ((await imageKey(api, img.tag)) === key) return img.tag;
  const ctx = context ?? mkdtempSync(join(tmpdir(), 'bb-agent-ctx-'));
  try {
    await build(docker, { tag: img.tag, dockerfile, context: ctx, key, args, logPath, what: `agent ${plan.agentName}` }, onProgress);
  } finally {
    if (context === null) rmSync(ctx, { recursive: true, force: true });
  }
  const missing = await probeAgentImage(docker, img.tag, plan.agent.interactiveArgv[0] ?? null);
  if (missing.length > 0) {
    // Unlabel, so the next launch rebuilds instead of trusting an image that lacks the basics.
    await docker.run(['image', 'rm', img.tag]);
    throw new BottleError('LAUNCH_FAILED', `agent image ${img.tag} (from ${dockerfile}) lacks ${missing.join(', ')}`, {
      fix: 'an agent image keeps user node (uid 1000, home /home/node), sh, git, update-ca-certificates and the agent command on PATH',
    });
  }
  return img.tag;
}

/** The shell probe of a built agent image: one `MISSING …` line per missing piece. Pure. */
export function agentImageProbeScript(command: string | null): string {
  const cmd = command && /^[A-Za-z0-9._/-]+$/.test(command) ? command : null;
  return [
    '[ "$(id -u node 2>/dev/null)" = 1000 ] || echo "MISSING user node (uid 1000)"',
    'command -v git >/dev/null 2>&1 || echo "MISSING git"',
    'command -v update-ca-certificates >/dev/null 2>&1 || echo "MISSING update-ca-certificates"',
    // The image's own PATH is the one every `docker exec` gets.
    ...(cmd ? [`command -v ${cmd} >/dev/null 2>&1 || echo "MISSING the agent command ${cmd} on PATH"`] : []),
  ].join('; ');
}

/** What a freshly built agent image lacks (docs/configuration.md §3.2: the infrastructure an image keeps). */
async function probeAgentImage(docker: Docker, tag: string, command: string | null): Promise<string[]> {
  const r = await docker.run(['run', '--rm', '--network', 'none', '--user', '0', '--entrypoint', '/bin/sh', tag, '-c', agentImageProbeScript(command)]);
  if (r.code === 127 || /executable file not found|no such file/i.test(r.stderr)) return ['sh'];
  return [...r.stdout.matchAll(/^MISSING (.+)$/gm)].map((m) => m[1]!);
}
