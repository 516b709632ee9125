/**
 * Secret scan of the commits a push brings that the gate has never seen
 * (docs/security-model.md §2.5; docs/decisions/gate-scan-surfaces.md):
 * `rev-list <new…> --not --all` inside the quarantine, size check of new blobs, then the added
 * lines of each commit, commit messages and annotated-tag messages through the shared DLP scanner.
 */
import { randomBytes } from 'node:crypto';
import type { DetectorName, Finding, Scanner, Surface } from '../dlp/types.js';
import { lineIndexAt, parseLogPatch, unquoteGitPath } from './diff-parse.js';
import type { GitRunner } from './git.js';
import { isZeroOid, type RefUpdate } from './policy.js';

export const ALLOW_MARKERS = ['bot-bottle:allow', 'gitleaks:allow'] as const;
const DETECTORS: ReadonlySet<DetectorName> = new Set<DetectorName>(['token_patterns', 'known_secrets']);
const LOG_LIMIT = 256 * 1024 * 1024;

export interface GateFinding {
  readonly rule: string;
  readonly detector: Finding['detector'];
  readonly secretKind?: Finding['secretKind'];
  readonly file: string;
  /** 1-based new-file line; null when the match exists only in a derived view (fragments). */
  readonly line: number | null;
  readonly commit: string;
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

export type ScanOutcome =
  | { readonly kind: 'ok'; readonly findings: readonly GateFinding[]; readonly commits: number }
  | { readonly kind: 'too_large'; readonly file: string; readonly commit: string; readonly limit: number }
  | { readonly kind: 'error'; readonly message: string };

export interface ScanDeps {
  readonly git: GitRunner;
  readonly cwd: string;
  /** Quarantine environment from the hook (GIT_DIR, GIT_OBJECT_DIRECTORY, …). */
  readonly env: Readonly<Record<string, string>>;
  readonly scanner: Scanner;
  readonly maxBlobBytes: number;
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

async function newCommitsByRef(d: ScanDeps, updates: readonly RefUpdate[]): Promise<Map<string, string> | string> {
  const byCommit = new Map<string, string>();
  for (const u of updates) {
    if (isZeroOid(u.newOid)) continue;
    const r = await d.git.run(['rev-list', '--reverse', u.newOid, '--not', '--all'], { cwd: d.cwd, env: d.env });
    if (r.code !== 0) return `rev-list failed for ${u.ref}`;
    for (const c of r.stdout.toString('utf8').split('\n').filter(Boolean)) if (!byCommit.has(c)) byCommit.set(c, u.ref);
  }
  return byCommit;
}

async function oversizedBlob(d: ScanDeps, tips: readonly string[]): Promise<{ file: string; commit: string } | null | string> {
  const objs = await d.git.run(['rev-list', '--objects', ...tips, '--not', '--all'], { cwd: d.cwd, env: d.env });
  if (objs.code !== 0) return 'rev-list --objects failed';
  const paths = new Map<string, string>();
  for (const line of objs.stdout.toString('utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) paths.set(line.slice(0, sp), line.slice(sp + 1));
  }
  if (paths.size === 0) return null;
  const check = await d.git.run(['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'], {
    cwd: d.cwd,
    env: d.env,
    input: [...paths.keys()].join('\n') + '\n',
  });
  if (check.code !== 0) return 'cat-file --batch-check failed';
  for (const line of check.stdout.toString('utf8').split('\n')) {
    const [oid, type, size] = line.split(' ');
    if (type === 'blob' && oid && Number(size) > d.maxBlobBytes) {
      const found = await d.git.run(['log', '--format=%H', `--find-object=${oid}`, ...tips, '--not', '--all'], { cwd: d.cwd, env: d.env });
      const commit = found.stdout.toString('utf8').split('\n').filter(Boolean).pop() ?? tips[0] ?? '';
      return { file: paths.get(oid) ?? oid, commit };
    }
  }
  return null;
}

function parseMeta(out: string, marker: string): Map<string, { identity: string[]; paths: string[] }> {
  const res = new Map<string, { identity: string[]; paths: string[] }>();
  const startRe = new RegExp(`^${marker} ([0-9a-f]{40,64})$`);
  let cur: { identity: string[]; paths: string[] } | null = null;
  let inIdentity = false;
  for (const line of out.split('\n')) {
    const m = startRe.exec(line);
    if (m) {
      cur = { identity: [], paths: [] };
      res.set(m[1] as string, cur);
      inIdentity = true;
      continue;
    }
    if (!cur) continue;
    if (inIdentity) {
      if (line === `${marker}-names`) inIdentity = false;
      else cur.identity.push(line);
      continue;
    }
    if (line !== '') cur.paths.push(unquoteGitPath(line));
  }
  return res;
}

export async function scanPush(d: ScanDeps, updates: readonly RefUpdate[]): Promise<ScanOutcome> {
  const byCommit = await newCommitsByRef(d, updates);
  if (typeof byCommit === 'string') return { kind: 'error', message: byCommit };
  const tips = updates.filter((u) => !isZeroOid(u.newOid)).map((u) => u.newOid);
  const findings: GateFinding[] = [];

  if (tips.length > 0) {
    const big = await oversizedBlob(d, tips);
    if (typeof big === 'string') return { kind: 'error', message: big };
    if (big) return { kind: 'too_large', file: big.file, commit: big.commit, limit: d.maxBlobBytes };
  }

  const perCommit: Array<{ commit: string; ref: string; surfaces: Surface[]; lineNos: Map<string, number[]>; lines: Map<string, string[]> }> = [];
  if (byCommit.size > 0) {
    const marker = `bbgate-${randomBytes(12).toString('hex')}`;
    const log = await d.git.run(
      [
        '-c',
        'core.quotePath=false',
        'log',
        '--no-walk=unsorted',
        '-p',
        '-U0',
        '--text',
        '--no-color',
        '--no-ext-diff',
        '--no-renames',
        '--diff-merges=first-parent',
        `--format=${marker} %H%n%B%n${marker}-end`,
        '--stdin',
      ],
      { cwd: d.cwd, env: d.env, input: [...byCommit.keys()].join('\n') + '\n', maxStdout: LOG_LIMIT },
    );
    if (log.code !== 0) return { kind: 'error', message: 'git log of the new commits failed (or exceeded the scan limit)' };
    // Beyond added lines and messages, also scanned: author/committer identities and changed paths
    // (an agent controls both, and both reach upstream).
    const meta = await d.git.run(
      [
        '-c',
        'core.quotePath=false',
        'log',
        '--no-walk=unsorted',
        '--name-only',
        '--no-renames',
        '--diff-merges=first-parent',
        `--format=${marker} %H%n%an <%ae>%n%cn <%ce>%n${marker}-names`,
        '--stdin',
      ],
      { cwd: d.cwd, env: d.env, input: [...byCommit.keys()].join('\n') + '\n', maxStdout: LOG_LIMIT },
    );
    if (meta.code !== 0) return { kind: 'error', message: 'git log --name-only of the new commits failed' };
    const metaByCommit = parseMeta(meta.stdout.toString('utf8'), marker);
    const addSurface = (sfs: Surface[], lineNos: Map<string, number[]>, lines: Map<string, string[]>, name: string, ls: string[]) => {
      sfs.push({ name, text: ls.join('\n') });
      lines.set(name, ls);
      lineNos.set(name, ls.map((_, i) => i + 1));
    };
    for (const c of parseLogPatch(log.stdout, marker)) {
      const surfaces: Surface[] = [];
      const lineNos = new Map<string, number[]>();
      const lines = new Map<string, string[]>();
      addSurface(surfaces, lineNos, lines, '(commit message)', c.message.split('\n'));
      const m = metaByCommit.get(c.commit);
      if (m) {
        addSurface(surfaces, lineNos, lines, '(commit identity)', m.identity);
        if (m.paths.length > 0) addSurface(surfaces, lineNos, lines, '(file names)', m.paths);
      }
      for (const f of c.files) {
        if (lines.has(f.file)) continue;
        surfaces.push({ name: f.file, text: f.lines.join('\n') });
        lines.set(f.file, f.lines);
        lineNos.set(f.file, f.lineNos);
      }
      perCommit.push({ commit: c.commit, ref: byCommit.get(c.commit) ?? '', surfaces, lineNos, lines });
    }
  }

  // Annotated tags: the tag object's own message is new content too.
  for (const u of updates) {
    if (isZeroOid(u.newOid) || !u.ref.startsWith('refs/tags/')) continue;
    const t = await d.git.run(['cat-file', '-t', u.newOid], { cwd: d.cwd, env: d.env });
    if (t.stdout.toString('utf8').trim() !== 'tag') continue;
    const body = await d.git.run(['cat-file', 'tag', u.newOid], { cwd: d.cwd, env: d.env });
    const text = body.stdout.toString('utf8');
    const sep = text.indexOf('\n\n');
    const msg = sep === -1 ? '' : text.slice(sep + 2);
    const name = `(tag message ${u.ref.slice('refs/tags/'.length)})`;
    const msgLines = msg.split('\n');
    perCommit.push({
      commit: u.newOid,
      ref: u.ref,
      surfaces: [{ name, text: msg }],
      lineNos: new Map([[name, msgLines.map((_, i) => i + 1)]]),
      lines: new Map([[name, msgLines]]),
    });
  }

  // Ref names reach upstream too.
  const pushedRefs = updates.filter((u) => !isZeroOid(u.newOid));
  if (pushedRefs.length > 0) {
    const names = pushedRefs.map((u) => u.ref);
    perCommit.push({
      commit: pushedRefs[0]?.newOid ?? '',
      ref: pushedRefs[0]?.ref ?? '',
      surfaces: [{ name: '(ref names)', text: names.join('\n') }],
      lineNos: new Map([['(ref names)', names.map((_, i) => i + 1)]]),
      lines: new Map([['(ref names)', names]]),
    });
  }

  const seen = new Set<string>();
  for (const c of perCommit) {
    const raw = d.scanner.scan(c.surfaces, DETECTORS, { fragmentScope: 'surface' }).filter((f) => f.severity === 'block');
    const surfaceText = new Map(c.surfaces.map((s) => [s.name, s.text]));
    // Group verbatim matches by line so the masked line hides every match on it.
    const located = raw.map((f) => {
      const text = surfaceText.get(f.surface) ?? '';
      if (f.start === null || f.end === null) {
        // Fragment findings have no single offset; the first located piece gives the line.
        const span = f.spans?.find((s) => s.surface === f.surface);
        return { f, idx: span ? lineIndexAt(text, span.start) : (null as number | null), col: 0, colEnd: 0, fragment: true };
      }
      const idx = lineIndexAt(text, f.start);
      const lineStart = text.lastIndexOf('\n', f.start - 1) + 1;
      return { f, idx, col: f.start - lineStart, colEnd: Math.min(f.end - lineStart, (c.lines.get(f.surface)?.[idx] ?? '').length), fragment: false };
    });
    for (const { f, idx } of located) {
      const key = `${f.rule}\u0000${f.surface}\u0000${f.fingerprint}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const lineText = idx === null ? '' : (c.lines.get(f.surface)?.[idx] ?? '');
      const sameLine = located.filter((o) => o.idx === idx && o.f.surface === f.surface && idx !== null && !o.fragment);
      const hasFragment = located.some((o) => o.idx === idx && o.f.surface === f.surface && o.fragment);
      // A line holding fragments of a secret cannot be masked piecewise: show only the masked value.
      const maskedLine = idx === null || hasFragment ? f.masked : maskLine(lineText, sameLine.map((o) => ({ start: o.col, end: o.colEnd, masked: o.f.masked })));
      const reason = idx === null ? null : markerReason(lineText);
      findings.push({
        rule: f.rule,
        detector: f.detector,
        ...(f.secretKind ? { secretKind: f.secretKind } : {}),
        // A path can itself hold a secret: reports, logs and proposals only ever see it masked.
        file: f.surface.startsWith('(') ? f.surface : maskSecrets(d.scanner, f.surface),
        line: idx === null ? null : (c.lineNos.get(f.surface)?.[idx] ?? null),
        commit: c.commit,
        ref: c.ref,
        fingerprint: f.fingerprint,
        masked: f.masked,
        maskedLine,
        markerReason: reason,
        allowable: f.detector !== 'canary' && f.secretKind !== 'slot' && f.secretKind !== 'canary',
      });
    }
  }
  return { kind: 'ok', findings, commits: byCommit.size };
}
