/**
 * Host-wide records of netns bottles under RECORD_DIR (/run, root-only): map the short kernel
 * names back to a slug and remember the processes to stop. Independent of BOT_BOTTLE_HOME so
 * `cleanup` and `list active` see bottles of every home; `ownerPid` keeps a live launcher's
 * bottle from being taken for an orphan.
 */
import { readFileSync, rmSync } from 'node:fs';
import { readJsonDir, writeJsonAtomic } from '../../util/json-dir.js';
import { join } from 'node:path';
import { RECORD_DIR } from './names.js';
import { ensureRuntimeDirs } from './runtime-dir.js';

export interface NetnsRecord {
  schema: 'bot-bottle/netns-record@1';
  slug: string;
  short: string;
  stateDir: string;
  hostAddr: string;
  guestAddr: string;
  ownerPid: number;
  sidecarPid: number | null;
  /**
   * The unprivileged uid (= gid) the sidecars run as (docs/decisions/netns-sidecar-uid.md); null
   * until the block is allocated. Absent in records of earlier versions (sidecars as root).
   */
  sidecarUid?: number | null;
  agent: string;
  label: string;
  color: string;
  bottles: string[];
  daemons: string[];
  headless: boolean;
  startedAt: string;
}

export function writeRecord(rec: NetnsRecord): void {
  ensureRuntimeDirs();
  // readers (list active, cleanup in another process) never see half a record
  writeJsonAtomic(join(RECORD_DIR, `${rec.short}.json`), rec);
}

export function removeRecord(short: string): void {
  rmSync(join(RECORD_DIR, `${short}.json`), { force: true });
}

export function readRecords(): NetnsRecord[] {
  return readJsonDir<NetnsRecord>(RECORD_DIR, (rec) => rec.schema === 'bot-bottle/netns-record@1');
}

/**
 * True when `rec.sidecarPid` is still that bottle's sidecar supervisor (guards against pid reuse):
 * a `sidecar` process running as the bottle's sidecar uid; for records of earlier versions (root
 * sidecars), one whose `--config` is the bottle's state dir. The supervisor's `--config` is the
 * staged path, the same in every bottle, so it no longer tells bottles apart.
 */
export function isSidecarOf(rec: Pick<NetnsRecord, 'sidecarPid' | 'stateDir' | 'sidecarUid'>): boolean {
  const pid = rec.sidecarPid;
  if (!pid) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!argv.includes('sidecar')) return false;
    if (typeof rec.sidecarUid === 'number') {
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
      return Number(uid) === rec.sidecarUid;
    }
    const i = argv.indexOf('--config');
    return i >= 0 && argv[i + 1] === rec.stateDir;
  } catch {
    return false;
  }
}

