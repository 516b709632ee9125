/**
 * Secret scan of every object a push brings that the gate has never seen
 * (docs/security-model.md §2.5; docs/decisions/gate-scan-every-object.md, which supersedes the
 * diff-based scan of docs/decisions/gate-scan-surfaces.md):
 *
 * - enumerated: `rev-list --objects <new> --not --all` per updated ref (tags peeled to any type),
 *   plus every object of the received pack (the quarantine) the mirror does not already have,
 *   so an unreferenced object cannot slip into the mirror's store unscanned;
 * - scanned by type through the shared DLP scanner: blob bytes (the same decoded views as an
 *   egress body), tree entry names, and the full raw commit/tag object (every header — author,
 *   committer, tagger, gpgsig, custom ones — and the message);
 * - bounded: objects per push, bytes per blob and per push, wall-clock time; over a bound the
 *   push is refused with the reason, never scanned partially.
 *
 * A secret the gate already holds in the previous version of the same file or tree (the object it
 * replaces in the new commits, reached through `diff-tree`) is not new: it is upstream already, so
 * editing a file that carries an old secret does not block (docs/security-model.md §2.5, case 7).
 */
import { existsSync } from 'node:fs';
import { bodySurfaces, decodeText } from '../dlp/index.js';
import type { DetectorName, Finding, Scanner, Surface } from '../dlp/types.js';
import type { GitResult, GitRunner } from './git.js';
import {
  entryKind,
  headerFieldAt,
  headerValues,
  parseBatch,
  parseDiffTree,
  parseTree,
  splitObject,
  type ObjectType,
  type RawObject,
} from './objects.js';
import { isZeroOid, type RefUpdate } from './policy.js';

export const ALLOW_MARKERS = ['bot-bottle:allow', 'gitleaks:allow'] as const;
const DETECTORS: ReadonlySet<DetectorName> = new Set<DetectorName>(['token_patterns', 'known_secrets']);
/** One `cat-file --batch` run reads at most this much (blobs are read in batches, then dropped). */
const BATCH_BYTES = 64 * 1024 * 1024;
const LIST_LIMIT = 256 * 1024 * 1024;

export interface GateFinding {
  readonly rule: string;
  readonly detector: Finding['detector'];
  readonly secretKind?: Finding['secretKind'];
  /** A path (blobs), `(file names)` (tree entries), `(commit header: <field>)`, `(commit message)`, `(tag header: <field>)`, `(tag message <name>)`, `(ref names)`. */
  readonly file: string;
  /** 1-based line in that object (raw object line for headers); null when only a derived view matched. */
  readonly line: number | null;
  /** The commit that introduced the object; for objects reached only through a tag or a non-commit ref, that tag or object. */
  readonly commit: string;
  /** Type of `commit` (a commit, or the tag/tree/blob a non-commit ref points at). */
  readonly via: ObjectType;
  readonly ref: string;
  readonly fingerprint: string;
  readonly masked: string;
  /** The line with every match on it masked (≤ 160 chars); safe to show the agent and supervise. */
  readonly maskedLine: string;
  /** Text after an inline allow marker on the line (≤ 200 chars); null when the line has none. */
  readonly markerReason: string | null;
  /** Canary and gate-token findings can never be approved (docs/decisions/gate-approvals.md). */
  readonly allowable: boolean;
}

export type ScanLimitKind = 'objects' | 'bytes' | 'time';

export type ScanOutcome =
  | { readonly kind: 'ok'; readonly findings: readonly GateFinding[]; readonly objects: number }
  | { readonly kind: 'too_large'; readonly file: string; readonly commit: string; readonly limit: number }
  | { readonly kind: 'limit'; readonly limit: ScanLimitKind; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

export interface ScanLimits {
  readonly maxBlobBytes: number;
  readonly maxObjects: number;
  readonly maxTotalBytes: number;
  readonly timeoutMs: number;
}

export interface ScanDeps {
  readonly git: GitRunner;
  readonly cwd: string;
  /** Quarantine environment from the hook (GIT_DIR, GIT_QUARANTINE_PATH, GIT_OBJECT_DIRECTORY, …). */
  readonly env: Readonly<Record<string, string>>;
  readonly scanner: Scanner;
  readonly limits: ScanLimits;
  /** Aborted when the push's client (and so its hook) went away. */
  readonly signal?: AbortSignal;
}

/** `text` with every token-pattern / known-secret match replaced by its masked form (for paths, refs). */
export function maskSecrets(scanner: Scanner, text: string): string {
  const found = scanner.scan([{ name: 'text', text }], DETECTORS).filter((f) => f.start !== null && f.end !== null);
  return maskLine(text, found.map((f) => ({ start: f.start as number, end: f.end as number, masked: f.masked })), Number.POSITIVE_INFINITY);
}

export function markerReason(line: string): string | null {
  for (const m of ALLOW_MARKERS) {
    const i = line.indexOf(m);
    if (i !== -1) return line.slice(i + m.length).trim().slice(0, 200);
  }
  return null;
}

function maskLine(line: string, matches: ReadonlyArray<{ start: number; end: number; masked: string }>, maxLen = 160): string {
  let out = line;
  let limit = Number.POSITIVE_INFINITY;
  // Right to left; a match overlapping one already replaced is skipped (its value is hidden).
  for (const m of [...matches].sort((a, b) => b.start - a.start || b.end - a.end)) {
    if (m.end > limit) continue;
    out = out.slice(0, m.start) + m.masked + out.slice(m.end);
    limit = m.start;
  }
  return out.length > maxLen ? `${out.slice(0, maxLen - 3)}...` : out;
}

/** 0-based line index of `offset` in `text`. */
export function lineIndexAt(text: string, offset: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * The DLP surfaces of raw bytes: decoded the way egress decodes a request body (UTF-8, else
 * latin-1 so binary keeps its bytes) plus the body's derived views (src/dlp/README.md). Decoders
 * the DLP module gains apply here without a change in the gate.
 */
export function bytesSurfaces(bytes: Buffer, name: string): { surfaces: Surface[]; text: string } {
  const { text } = decodeText(bytes);
  return { surfaces: bodySurfaces(text, undefined, name), text };
}

/** One scanned piece of an object: its surface name, how findings in it are shown, and line numbers. */
interface Part {
  readonly surface: string;
  readonly text: string;
  readonly derived: readonly Surface[];
  /** Display name for a finding on 0-based line `idx` of `text`. */
  readonly label: (idx: number | null) => string;
  /** 1-based line shown for 0-based line `idx`. */
  readonly lineNo: (idx: number) => number;
}

interface Origin {
  ref: string;
  /** Display path (blobs, trees). */
  path?: string;
  /** The object it is reported under (introducing commit, tag, or itself). */
  via?: { oid: string; type: ObjectType };
}

class ScanAbort extends Error {
  constructor(readonly outcome: ScanOutcome) {
    super(outcome.kind);
  }
}

/** Splits on '\n' without a trailing empty line. */
function lines(text: string): string[] {
  return text.split('\n');
}

export async function scanPush(d: ScanDeps, updates: readonly RefUpdate[]): Promise<ScanOutcome> {
  try {
    return await scanPushInner(d, updates);
  } catch (err) {
    if (err instanceof ScanAbort) return err.outcome;
    throw err;
  }
}

async function scanPushInner(d: ScanDeps, updates: readonly RefUpdate[]): Promise<ScanOutcome> {
  const { limits } = d;
  const deadline = Date.now() + limits.timeoutMs;
  const timeUp = (): ScanAbort =>
    new ScanAbort({
      kind: 'limit',
      limit: 'time',
      message: `scanning the pushed objects took longer than ${Math.round(limits.timeoutMs / 1000)}s`,
    });
  const git = async (args: string[], opts: { input?: string; maxStdout?: number; env?: Readonly<Record<string, string>> } = {}): Promise<GitResult> => {
    const left = deadline - Date.now();
    if (left <= 0) throw timeUp();
    const r = await d.git.run(args, {
      cwd: d.cwd,
      env: opts.env ?? d.env,
      timeoutMs: left,
      maxStdout: opts.maxStdout ?? LIST_LIMIT,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      ...(d.signal ? { signal: d.signal } : {}),
    });
    if (r.timedOut) throw timeUp();
    if (d.signal?.aborted) throw new ScanAbort({ kind: 'error', message: 'the push was abandoned by its client' });
    return r;
  };
  const fail = (message: string): ScanAbort => new ScanAbort({ kind: 'error', message });
  const textOf = (r: GitResult): string[] => r.stdout.toString('latin1').split('\n').filter(Boolean);

  const pushed = updates.filter((u) => !isZeroOid(u.newOid));
  const origin = new Map<string, Origin>();

  // 1. Everything the updated refs reach that the gate's refs do not (tags peeled to any type).
  const earlier: string[] = [];
  for (const u of pushed) {
    // Output is capped at what the object bound allows, so a push of millions of tiny objects
    // is refused without ever holding their list.
    const cap = (limits.maxObjects + 1) * 66;
    const r = await git(['rev-list', '--objects', '--no-object-names', u.newOid, '--not', '--all', ...earlier], { maxStdout: cap });
    if (r.overflowed) throw new ScanAbort(tooManyObjects(limits.maxObjects, limits.maxObjects, true));
    if (r.code !== 0) throw fail(`rev-list --objects failed for ${u.ref}`);
    for (const oid of textOf(r)) if (!origin.has(oid)) origin.set(oid, { ref: u.ref });
    earlier.push(u.newOid);
  }

  // 2. Every object of the received pack the mirror does not already hold, referenced or not.
  const unreferenced = new Set<string>();
  const qpath = d.env['GIT_QUARANTINE_PATH'];
  const gitDir = d.env['GIT_DIR'];
  if (qpath && existsSync(qpath)) {
    const inPack = await git(['cat-file', '--batch-all-objects', '--batch-check=%(objectname)'], {
      // Only the quarantine: no alternates, so the mirror's own objects are not listed.
      env: { ...(gitDir ? { GIT_DIR: gitDir } : {}), GIT_OBJECT_DIRECTORY: qpath },
      maxStdout: (limits.maxObjects + 1) * 66,
    });
    if (inPack.overflowed) throw new ScanAbort(tooManyObjects(limits.maxObjects, limits.maxObjects, true));
    if (inPack.code !== 0) throw fail('cannot list the objects of the received pack');
    const candidates = textOf(inPack).filter((oid) => !origin.has(oid));
    if (candidates.length > limits.maxObjects) throw new ScanAbort(tooManyObjects(candidates.length, limits.maxObjects));
    if (candidates.length > 0) {
      const have = await git(['cat-file', '--batch-check=%(objectname)'], {
        env: gitDir ? { GIT_DIR: gitDir } : {},
        input: candidates.join('\n') + '\n',
      });
      if (have.code !== 0) throw fail('cannot compare the received pack with the mirror');
      for (const line of textOf(have)) {
        const m = /^([0-9a-f]+) missing$/.exec(line);
        if (m) {
          unreferenced.add(m[1] as string);
          origin.set(m[1] as string, { ref: '(pushed pack, unreferenced)' });
        }
      }
    }
  }

  // 3. Types and sizes; the count and byte bounds are checked before anything is read.
  if (origin.size > limits.maxObjects) throw new ScanAbort(tooManyObjects(origin.size, limits.maxObjects));
  const info = new Map<string, { type: ObjectType; size: number }>();
  if (origin.size > 0) {
    const check = await git(['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'], { input: [...origin.keys()].join('\n') + '\n' });
    if (check.code !== 0) throw fail('cat-file --batch-check failed');
    for (const line of textOf(check)) {
      const [oid, type, size] = line.split(' ');
      if (!oid || type === 'missing') throw fail(`object ${(oid ?? '').slice(0, 12)} is missing`);
      if (type !== 'commit' && type !== 'tree' && type !== 'blob' && type !== 'tag') throw fail(`object ${oid.slice(0, 12)} has unknown type`);
      info.set(oid, { type, size: Number(size) });
    }
  }
  let total = 0;
  for (const { size } of info.values()) total += size;
  if (total > limits.maxTotalBytes) {
    throw new ScanAbort({
      kind: 'limit',
      limit: 'bytes',
      message: `the push brings ${total} bytes of new objects, more than the gate scans in one push (${limits.maxTotalBytes})`,
    });
  }

  // 4. Commits, tags and trees are read first: they give blobs their paths and commits.
  const hashBytes = ([...info.keys()][0]?.length ?? 40) / 2;
  const small = new Map<string, RawObject>();
  for await (const o of readObjects(git, [...info].filter(([, v]) => v.type !== 'blob').map(([oid, v]) => ({ oid, size: v.size })))) small.set(o.oid, o);

  // Which commit introduced each new blob/tree, and which older object it replaces at its path.
  const newCommits = textOf(await git(['rev-list', '--topo-order', '--reverse', ...pushed.map((u) => u.newOid), '--not', '--all'])).filter((c) => info.has(c));
  const predecessors = new Map<string, Set<string>>();
  const addPred = (nu: string, old: string) => {
    if (nu === old || isZeroOid(old)) return;
    let s = predecessors.get(nu);
    if (!s) predecessors.set(nu, (s = new Set()));
    s.add(old);
  };
  if (newCommits.length > 0) {
    const dt = await git(['diff-tree', '--stdin', '-r', '-t', '-m', '--root', '--no-renames', '-z'], {
      input: newCommits.join('\n') + '\n',
    });
    if (dt.code !== 0) throw fail('diff-tree of the new commits failed');
    for (const rec of parseDiffTree(dt.stdout)) {
      if (rec.status === 'D' || isZeroOid(rec.newOid) || !info.has(rec.newOid)) continue;
      const o = origin.get(rec.newOid);
      if (o && !o.via) {
        o.path = decodeText(rec.path).text;
        o.via = { oid: rec.commit, type: 'commit' };
        o.ref = origin.get(rec.commit)?.ref ?? o.ref;
      }
      if (entryKind(rec.oldMode) === entryKind(rec.newMode)) addPred(rec.newOid, rec.oldOid);
    }
    // Root trees: a commit's tree replaces its parents' trees.
    const parentTrees = new Map<string, string>();
    const oldParents = new Set<string>();
    for (const c of newCommits) {
      const raw = small.get(c);
      if (!raw) continue;
      for (const p of headerValues(splitObject(raw.content).header, 'parent')) {
        const pr = small.get(p);
        if (pr) parentTrees.set(p, headerValues(splitObject(pr.content).header, 'tree')[0] ?? '');
        else oldParents.add(p);
      }
    }
    if (oldParents.size > 0) {
      const r = await git(['cat-file', '--batch-check=%(objectname)'], { input: [...oldParents].map((p) => `${p}^{tree}`).join('\n') + '\n' });
      const trees = textOf(r);
      [...oldParents].forEach((p, i) => {
        const t = trees[i] ?? '';
        if (/^[0-9a-f]+$/.test(t)) parentTrees.set(p, t);
      });
    }
    for (const c of newCommits) {
      const raw = small.get(c);
      if (!raw) continue;
      const header = splitObject(raw.content).header;
      const tree = headerValues(header, 'tree')[0];
      if (!tree) continue;
      const o = origin.get(tree);
      if (o && !o.via && info.has(tree)) {
        o.path = '';
        o.via = { oid: c, type: 'commit' };
      }
      for (const p of headerValues(header, 'parent')) addPred(tree, parentTrees.get(p) ?? '');
    }
  }

  // Objects reached only through tags or non-commit refs: paths from the trees themselves.
  const walk = (oid: string, path: string, via: { oid: string; type: ObjectType }, ref: string, depth: number) => {
    const o = origin.get(oid);
    if (!o || o.via || depth > 4096) return;
    o.via = via;
    o.path = path;
    o.ref = ref;
    const raw = small.get(oid);
    if (!raw) return;
    if (raw.type === 'tag') {
      const target = headerValues(splitObject(raw.content).header, 'object')[0];
      if (target) walk(target, '', via, ref, depth + 1);
    } else if (raw.type === 'tree') {
      for (const e of parseTree(raw.content, hashBytes)) {
        if (entryKind(e.mode) === 'gitlink') continue;
        walk(e.oid, path === '' ? decodeText(e.name).text : `${path}/${decodeText(e.name).text}`, via, ref, depth + 1);
      }
    }
  };
  for (const u of pushed) {
    const t = info.get(u.newOid)?.type;
    if (t && t !== 'commit') walk(u.newOid, '', { oid: u.newOid, type: t }, u.ref, 0);
  }
  for (const [oid, o] of origin) {
    const t = info.get(oid)?.type;
    if (!t) continue;
    if (t === 'commit' || t === 'tag') o.via ??= { oid, type: t };
    // Unreferenced pack objects and anything else never reached: reported as themselves.
    else if (!o.via) walk(oid, '', { oid, type: t }, o.ref, 0);
  }

  // 5. The per-blob bound, named by path and commit as the design's message has it.
  for (const [oid, v] of info) {
    if (v.type === 'blob' && v.size > limits.maxBlobBytes) {
      const o = origin.get(oid);
      return { kind: 'too_large', file: o?.path ? o.path : `(blob ${oid.slice(0, 12)})`, commit: o?.via?.oid ?? oid, limit: limits.maxBlobBytes };
    }
  }

  // 6. Secrets already in the objects these replace are upstream already (see the file comment).
  const oldFingerprints = new Map<string, Set<string>>();
  const oldPreds = new Set<string>();
  for (const preds of predecessors.values()) for (const p of preds) if (!info.has(p)) oldPreds.add(p);
  if (oldPreds.size > 0) {
    const sizes = await git(['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'], { input: [...oldPreds].join('\n') + '\n' });
    const readable = textOf(sizes)
      .map((l) => l.split(' '))
      .filter((p) => p.length === 3 && (p[1] === 'blob' || p[1] === 'tree') && Number(p[2]) <= limits.maxBlobBytes)
      .map((p) => ({ oid: p[0] as string, size: Number(p[2]) }));
    for await (const o of readObjects(git, readable)) {
      const fps = new Set<string>();
      for (const part of partsOf(o, '', hashBytes)) {
        for (const f of d.scanner.scan([{ name: part.surface, text: part.text }, ...part.derived], DETECTORS, { fragmentScope: 'surface' })) fps.add(`${f.rule}\u0000${f.fingerprint}`);
      }
      oldFingerprints.set(o.oid, fps);
      await yieldToLoop();
    }
  }
  const inheritedMemo = new Map<string, Set<string>>();
  const inherited = (oid: string, seen: Set<string> = new Set()): Set<string> => {
    const memo = inheritedMemo.get(oid);
    if (memo) return memo;
    const out = new Set<string>();
    if (seen.has(oid)) return out;
    seen.add(oid);
    for (const p of predecessors.get(oid) ?? []) {
      const from = info.has(p) ? inherited(p, seen) : (oldFingerprints.get(p) ?? new Set<string>());
      for (const f of from) out.add(f);
    }
    inheritedMemo.set(oid, out);
    return out;
  };

  // 7. Scan: commits, tags and trees (already read), then blobs in bounded batches.
  const findings: GateFinding[] = [];
  const seen = new Set<string>();
  const scanObject = (o: RawObject) => {
    const org = origin.get(o.oid) ?? { ref: '' };
    const via = org.via ?? { oid: o.oid, type: o.type };
    const skip = inherited(o.oid);
    for (const part of partsOf(o, org.path ?? '', hashBytes)) {
      const raw = d.scanner
        .scan([{ name: part.surface, text: part.text }, ...part.derived], DETECTORS, { fragmentScope: 'surface' })
        .filter((f) => f.severity === 'block')
        // Canary and gate tokens are never "already upstream": nothing excuses them.
        .filter((f) => !skip.has(`${f.rule}\u0000${f.fingerprint}`) || f.detector === 'canary' || f.secretKind === 'canary' || f.secretKind === 'slot');
      if (raw.length === 0) continue;
      const textLines = lines(part.text);
      const located = raw.map((f) => {
        if (f.start === null || f.end === null) {
          // Fragment findings have no single offset; the first located piece gives the line.
          const span = f.spans?.find((s) => s.surface === part.surface);
          return { f, idx: span ? lineIndexAt(part.text, span.start) : null, col: 0, colEnd: 0, fragment: true };
        }
        const idx = lineIndexAt(part.text, f.start);
        const lineStart = part.text.lastIndexOf('\n', f.start - 1) + 1;
        return { f, idx, col: f.start - lineStart, colEnd: Math.min(f.end - lineStart, (textLines[idx] ?? '').length), fragment: false };
      });
      for (const { f, idx } of located) {
        const label = part.label(idx);
        // A path can itself hold a secret: reports, logs and proposals only ever see it masked.
        const file = maskSecrets(d.scanner, label);
        const key = `${f.rule}\u0000${file}\u0000${f.fingerprint}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const lineText = idx === null ? '' : (textLines[idx] ?? '');
        const sameLine = located.filter((x) => x.idx === idx && idx !== null && !x.fragment);
        const hasFragment = located.some((x) => x.idx === idx && x.fragment);
        // A line holding fragments of a secret cannot be masked piecewise: show only the masked value.
        const maskedLine = idx === null || hasFragment ? f.masked : maskLine(lineText, sameLine.map((x) => ({ start: x.col, end: x.colEnd, masked: x.f.masked })));
        findings.push({
          rule: f.rule,
          detector: f.detector,
          ...(f.secretKind ? { secretKind: f.secretKind } : {}),
          file,
          line: idx === null ? null : part.lineNo(idx),
          commit: via.oid,
          via: via.type,
          ref: org.ref,
          fingerprint: f.fingerprint,
          masked: f.masked,
          maskedLine,
          markerReason: idx === null ? null : markerReason(lineText),
          allowable: f.detector !== 'canary' && f.secretKind !== 'slot' && f.secretKind !== 'canary',
        });
      }
    }
  };
  const order: ObjectType[] = ['commit', 'tag', 'tree'];
  for (const type of order) {
    for (const o of small.values()) {
      if (o.type !== type) continue;
      if (Date.now() > deadline) throw timeUp();
      scanObject(o);
    }
    await yieldToLoop();
  }
  const blobs = [...info].filter(([, v]) => v.type === 'blob').map(([oid, v]) => ({ oid, size: v.size }));
  for await (const o of readObjects(git, blobs)) {
    if (Date.now() > deadline) throw timeUp();
    scanObject(o);
    await yieldToLoop();
  }

  // Ref names reach upstream too.
  if (pushed.length > 0) {
    const names = pushed.map((u) => u.ref).join('\n');
    const first = pushed[0] as RefUpdate;
    for (const f of d.scanner.scan([{ name: '(ref names)', text: names }], DETECTORS, { fragmentScope: 'surface' }).filter((x) => x.severity === 'block')) {
      const idx = f.start === null ? 0 : lineIndexAt(names, f.start);
      const key = `${f.rule}\u0000(ref names)\u0000${f.fingerprint}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push({
        rule: f.rule,
        detector: f.detector,
        ...(f.secretKind ? { secretKind: f.secretKind } : {}),
        file: '(ref names)',
        line: idx + 1,
        commit: pushed[idx]?.newOid ?? first.newOid,
        via: info.get(pushed[idx]?.newOid ?? first.newOid)?.type ?? 'commit',
        ref: maskSecrets(d.scanner, pushed[idx]?.ref ?? first.ref),
        fingerprint: f.fingerprint,
        masked: f.masked,
        maskedLine: maskSecrets(d.scanner, names.split('\n')[idx] ?? ''),
        markerReason: null,
        allowable: f.detector !== 'canary' && f.secretKind !== 'slot' && f.secretKind !== 'canary',
      });
    }
  }
  // Findings are reported against the ref that brought them; a ref name that is itself a secret is masked.
  return { kind: 'ok', findings: findings.map((f) => ({ ...f, ref: maskSecrets(d.scanner, f.ref) })), objects: info.size };
}

/** `atLeast`: counting stopped at the bound, so the message says "more than" instead of a number. */
function tooManyObjects(n: number, max: number, atLeast = false): ScanOutcome {
  return { kind: 'limit', limit: 'objects', message: `the push brings ${atLeast ? `more than ${max}` : n} objects new to this gate, more than it scans in one push (${max})` };
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Reads objects with `cat-file --batch`, at most BATCH_BYTES per git run. */
async function* readObjects(
  git: (args: string[], opts: { input?: string; maxStdout?: number }) => Promise<GitResult>,
  wanted: ReadonlyArray<{ oid: string; size: number }>,
): AsyncGenerator<RawObject> {
  let i = 0;
  while (i < wanted.length) {
    const batch: string[] = [];
    let bytes = 0;
    while (i < wanted.length && (batch.length === 0 || bytes + (wanted[i] as { size: number }).size <= BATCH_BYTES)) {
      const w = wanted[i] as { oid: string; size: number };
      batch.push(w.oid);
      bytes += w.size;
      i++;
    }
    const r = await git(['cat-file', '--batch'], { input: batch.join('\n') + '\n', maxStdout: bytes + batch.length * 200 + 1024 });
    const parsed = r.code === 0 ? parseBatch(r.stdout) : null;
    if (!parsed || parsed.missing.length > 0) throw new ScanAbort({ kind: 'error', message: 'cat-file --batch failed while reading the pushed objects' });
    yield* parsed.objects;
  }
}

/** The surfaces of one object, by type (see the file comment). */
function partsOf(o: RawObject, path: string, hashBytes: number): Part[] {
  if (o.type === 'blob') {
    const name = path === '' ? `(blob ${o.oid.slice(0, 12)})` : path;
    const { surfaces, text } = bytesSurfaces(o.content, name);
    return [{ surface: name, text, derived: surfaces.filter((s) => s.derived), label: () => name, lineNo: (i) => i + 1 }];
  }
  if (o.type === 'tree') {
    const prefix = path === '' ? '' : `${path}/`;
    const text = parseTree(o.content, hashBytes)
      .map((e) => prefix + decodeText(e.name).text)
      .join('\n');
    const surfaces = bodySurfaces(text, undefined, '(file names)');
    return [{ surface: '(file names)', text, derived: surfaces.filter((s) => s.derived), label: () => '(file names)', lineNo: (i) => i + 1 }];
  }
  // commit or tag: every header line and the message.
  const { header, message } = splitObject(o.content);
  const h = bytesSurfaces(header, `(${o.type} header)`);
  const headerLines = lines(h.text);
  const tagName = o.type === 'tag' ? (headerValues(header, 'tag')[0] ?? '') : '';
  const msgName = o.type === 'tag' ? `(tag message ${decodeText(Buffer.from(tagName, 'latin1')).text})` : '(commit message)';
  const m = bytesSurfaces(message, msgName);
  return [
    {
      surface: `(${o.type} header)`,
      text: h.text,
      derived: h.surfaces.filter((s) => s.derived),
      label: (idx) => `(${o.type} header: ${idx === null ? '?' : headerFieldAt(headerLines, idx)})`,
      lineNo: (i) => i + 1,
    },
    // Message lines are numbered within the message, as in the design's report (`(commit message):3`).
    { surface: msgName, text: m.text, derived: m.surfaces.filter((s) => s.derived), label: () => msgName, lineNo: (i) => i + 1 },
  ];
}
