/**
 * Parses `git log -p -U0 --text` output (pure) into per-commit surfaces: each file's added lines
 * with their new-file line numbers from the hunk headers, plus the commit message. Lines are
 * decoded as UTF-8 when valid, else latin-1 (binary blobs read with `--text`).
 */

export interface FileAdditions {
  readonly file: string;
  readonly lines: string[];
  readonly lineNos: number[];
}

export interface CommitDiff {
  readonly commit: string;
  readonly message: string;
  readonly files: FileAdditions[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeLine(buf: Buffer): string {
  try {
    return utf8.decode(buf);
  } catch {
    return buf.toString('latin1');
  }
}

export function splitLines(out: Buffer): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const nl = out.indexOf(0x0a, start);
    if (nl === -1) {
      if (start < out.length) lines.push(decodeLine(out.subarray(start)));
      return lines;
    }
    lines.push(decodeLine(out.subarray(start, nl)));
    start = nl + 1;
  }
}

/** Undoes git's C-style quoting of unusual paths (`"a\tb"`, octal escapes for non-ASCII). */
export function unquoteGitPath(p: string): string {
  if (!p.startsWith('"') || !p.endsWith('"')) return p;
  const body = p.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const n = body[++i] ?? '';
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
    if (n in simple) bytes.push(simple[n] as number);
    else if (/[0-7]/.test(n)) {
      const oct = body.slice(i, i + 3);
      bytes.push(Number.parseInt(oct, 8));
      i += 2;
    } else bytes.push(...Buffer.from(n, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * `marker` is a per-scan random token: commit messages are attacker-controlled, so a fixed
 * delimiter could be forged to hide lines from the scanner.
 */
export function parseLogPatch(out: Buffer, marker: string): CommitDiff[] {
  const commits: CommitDiff[] = [];
  const lines = splitLines(out);
  const startRe = new RegExp(`^${marker} ([0-9a-f]{40,64})$`);
  const endLine = `${marker}-end`;
  let i = 0;
  while (i < lines.length) {
    const m = startRe.exec(lines[i] as string);
    if (!m) {
      i++;
      continue;
    }
    const commit = m[1] as string;
    i++;
    const msg: string[] = [];
    while (i < lines.length && lines[i] !== endLine) msg.push(lines[i++] as string);
    i++; // end marker
    const files: FileAdditions[] = [];
    let current: FileAdditions | null = null;
    let oldLeft = 0;
    let newLeft = 0;
    let newNo = 0;
    while (i < lines.length && !startRe.test(lines[i] as string)) {
      const line = lines[i] as string;
      i++;
      if (oldLeft > 0 || newLeft > 0) {
        // Inside a hunk: counts from the header decide what a line is, so added lines that
        // themselves start with "+++ " or "diff --git" are never mistaken for headers.
        if (line.startsWith('+') && newLeft > 0) {
          current?.lines.push(line.slice(1));
          current?.lineNos.push(newNo);
          newNo++;
          newLeft--;
        } else if (line.startsWith('-') && oldLeft > 0) {
          oldLeft--;
        } else if (line.startsWith(' ')) {
          oldLeft--;
          newLeft--;
          newNo++;
        }
        continue;
      }
      if (line.startsWith('diff --git ')) {
        current = null;
        continue;
      }
      if (line.startsWith('+++ ')) {
        const p = line.slice(4);
        if (p === '/dev/null') {
          current = null;
          continue;
        }
        const path = unquoteGitPath(p);
        current = { file: path.startsWith('b/') ? path.slice(2) : path, lines: [], lineNos: [] };
        files.push(current);
        continue;
      }
      const h = /^@@@* -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (h) {
        oldLeft = h[2] === undefined ? 1 : Number(h[2]);
        newNo = Number(h[3]);
        newLeft = h[4] === undefined ? 1 : Number(h[4]);
      }
    }
    commits.push({ commit, message: msg.join('\n').replace(/\n+$/, ''), files: files.filter((f) => f.lines.length > 0) });
  }
  return commits;
}

/** Line index (0-based) of a character offset in `text`. */
export function lineIndexAt(text: string, offset: number): number {
  let n = 0;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}
