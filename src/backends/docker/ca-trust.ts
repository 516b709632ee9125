/**
 * The bottle CA written into the agent container after `create` and before `start`, through the
 * engine's archive endpoint (what `docker cp` uses), instead of two `docker exec` round trips
 * after start (docs/decisions/docker-ca-at-create.md): the image's system store gets the bottle CA
 * appended (plus /usr/local/share/ca-certificates/bot-bottle.crt, so a later
 * update-ca-certificates keeps it), and the guest home gets the CA and the bundle exactly as
 * provisioning's ca-trust step would write them (src/launch/ca-bundle.ts), owned by the agent.
 *
 * No process runs in the container yet, so nothing in it can race the write; the engine resolves
 * every path inside the container's root (a link planted in a committed image stays inside the
 * container) and replaces a link at a file's own name rather than writing through it.
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { GUEST_UID, type BottlePlan } from '../../plan/bottle-plan.js';
import { caBundleText, SYSTEM_CA_BUNDLES } from '../../launch/ca-bundle.js';
import { apiError, type EngineApi } from './engine-api.js';
import { firstTarEntry, tarFiles, type TarFile } from './tar.js';

/** Marks where our append starts in the system store, so a resumed (committed) image drops the previous bottle's CA. */
export const BOTTLE_CA_MARK = '# bot-bottle: the bottle CA (appended at container create)';
export const LOCAL_CA_DIR = '/usr/local/share/ca-certificates';

/** The system store without a previous bottle CA of ours (everything from our mark on). Pure. */
export function stripBottleCa(store: string): string {
  const at = store.indexOf(`\n${BOTTLE_CA_MARK}\n`);
  return at === -1 ? store : store.slice(0, at + 1);
}

export interface SystemStore {
  /** Absolute path of the regular file (links followed). */
  path: string;
  text: string;
  mode: number;
  uid: number;
  gid: number;
}

/** The files to extract at `/` (names relative to it). Pure. */
export function caTrustFiles(o: { store: SystemStore | null; localCaDir: boolean; caPem: string; guestCertPath: string; guestBundlePath: string; mtime: number }): TarFile[] {
  const rel = (p: string) => posix.normalize(p).replace(/^\/+/, '');
  const pem = o.caPem.endsWith('\n') ? o.caPem : `${o.caPem}\n`;
  const roots = o.store === null ? null : stripBottleCa(o.store.text);
  const files: TarFile[] = [];
  if (o.store !== null && roots !== null) {
    const text = `${roots}${roots.endsWith('\n') ? '' : '\n'}${BOTTLE_CA_MARK}\n${pem}`;
    files.push({ name: rel(o.store.path), content: Buffer.from(text), mode: o.store.mode || 0o644, uid: o.store.uid, gid: o.store.gid, mtime: o.mtime });
  }
  if (o.localCaDir) files.push({ name: rel(`${LOCAL_CA_DIR}/bot-bottle.crt`), content: Buffer.from(pem), mode: 0o644, uid: 0, gid: 0, mtime: o.mtime });
  const agent = { mode: 0o644, uid: GUEST_UID, gid: GUEST_UID, mtime: o.mtime };
  files.push({ name: rel(o.guestCertPath), content: Buffer.from(o.caPem), ...agent });
  files.push({ name: rel(o.guestBundlePath), content: Buffer.from(caBundleText(roots, o.caPem)), ...agent });
  return files;
}

const archivePath = (container: string, path: string) => `/containers/${encodeURIComponent(container)}/archive?path=${encodeURIComponent(path)}`;

/** A regular file of the container, links followed (at most 8), or null when absent. */
async function readContainerFile(api: EngineApi, container: string, path: string): Promise<SystemStore | null> {
  let p = path;
  for (let hop = 0; hop < 8; hop += 1) {
    const r = await api.request('GET', archivePath(container, p));
    if (r.status === 404) return null;
    if (r.status !== 200) throw apiError(`reading ${p} from ${container}`, r);
    const e = firstTarEntry(r.body);
    if (e === null) return null;
    if (e.type === '2') {
      p = posix.resolve(posix.dirname(p), e.linkname);
      continue;
    }
    if (e.type !== '0') return null;
    return { path: p, text: e.content.toString('utf8'), mode: e.mode, uid: e.uid, gid: e.gid };
  }
  return null;
}

async function isDirectory(api: EngineApi, container: string, path: string): Promise<boolean> {
  const r = await api.request('HEAD', archivePath(container, path));
  if (r.status !== 200) return false;
  const stat = r.headers['x-docker-container-path-stat'];
  if (typeof stat !== 'string') return false;
  try {
    // Go's os.FileMode: the directory bit is 1 << 31.
    return ((JSON.parse(Buffer.from(stat, 'base64').toString('utf8')) as { mode?: number }).mode ?? 0) >= 2 ** 31;
  } catch {
    return false;
  }
}

/**
 * Writes the CA trust into the created (not yet started) container. false when the bottle CA is
 * not on the host (provisioning then reports it); throws when the engine refuses the write.
 */
export async function writeCaTrust(api: EngineApi, container: string, plan: BottlePlan): Promise<boolean> {
  let caPem: string;
  try {
    caPem = readFileSync(plan.ca.hostCertPath, 'utf8');
  } catch {
    return false;
  }
  const [store, localCaDir] = await Promise.all([
    (async () => {
      for (const p of SYSTEM_CA_BUNDLES) {
        const s = await readContainerFile(api, container, p);
        if (s !== null) return s;
      }
      return null;
    })(),
    isDirectory(api, container, LOCAL_CA_DIR),
  ]);
  const tar = tarFiles(caTrustFiles({ store, localCaDir, caPem, guestCertPath: plan.ca.guestCertPath, guestBundlePath: plan.ca.guestBundlePath, mtime: Date.now() / 1000 }));
  const r = await api.request('PUT', `${archivePath(container, '/')}&noOverwriteDirNonDir=true`, { body: tar, contentType: 'application/x-tar' });
  if (r.status !== 200) throw apiError(`writing the bottle CA into ${container}`, r);
  return true;
}
