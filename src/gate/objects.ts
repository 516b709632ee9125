/**
 * Parsers for the raw git output the push scan reads (docs/decisions/gate-scan-every-object.md):
 * `cat-file --batch` records, tree entries, commit/tag headers, `diff-tree -z` records. Pure:
 * bytes in, values out; never throws on malformed input (a push is attacker-controlled).
 */

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

export function isObjectType(t: string): t is ObjectType {
  return t === 'commit' || t === 'tree' || t === 'blob' || t === 'tag';
}

export interface RawObject {
  readonly oid: string;
  readonly type: ObjectType;
  readonly content: Buffer;
}

/**
 * `git cat-file --batch` output: `<oid> <type> <size>\n<content>\n` per object, or
 * `<input> missing\n`. Returns the objects in order; null when the stream is malformed.
 */
export function parseBatch(buf: Buffer): { objects: RawObject[]; missing: string[] } | null {
  const objects: RawObject[] = [];
  const missing: string[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1) return null;
    const line = buf.subarray(pos, nl).toString('latin1');
    pos = nl + 1;
    const parts = line.split(' ');
    if (parts.length === 2 && parts[1] === 'missing') {
      missing.push(parts[0] as string);
      continue;
    }
    const [oid, type, sizeText] = parts;
    const size = Number(sizeText);
    if (parts.length !== 3 || !oid || !type || !isObjectType(type) || !Number.isSafeInteger(size) || size < 0) return null;
    if (pos + size + 1 > buf.length || buf[pos + size] !== 0x0a) return null;
    objects.push({ oid, type, content: buf.subarray(pos, pos + size) });
    pos += size + 1;
  }
  return { objects, missing };
}

export interface TreeEntry {
  readonly mode: string;
  /** Raw bytes of the name: git allows anything but NUL and '/'. */
  readonly name: Buffer;
  readonly oid: string;
}

/** Entries of a raw tree object (`<mode> <name>\0<hash>`); `hashBytes` is 20 (SHA-1) or 32 (SHA-256). */
export function parseTree(content: Buffer, hashBytes: number): TreeEntry[] {
  const out: TreeEntry[] = [];
  let pos = 0;
  while (pos < content.length) {
    const sp = content.indexOf(0x20, pos);
    if (sp === -1) break;
    const nul = content.indexOf(0x00, sp + 1);
    if (nul === -1 || nul + 1 + hashBytes > content.length) break;
    out.push({
      mode: content.subarray(pos, sp).toString('latin1'),
      name: content.subarray(sp + 1, nul),
      oid: content.subarray(nul + 1, nul + 1 + hashBytes).toString('hex'),
    });
    pos = nul + 1 + hashBytes;
  }
  return out;
}

/** Tree modes: 40000 tree, 160000 gitlink (a commit of another repository, never in this one). */
export function entryKind(mode: string): 'tree' | 'gitlink' | 'blob' {
  if (mode === '40000' || mode === '040000') return 'tree';
  if (mode === '160000') return 'gitlink';
  return 'blob';
}

/** A commit or tag split at the first empty line: header (author, extra headers, signatures …) and message. */
export function splitObject(content: Buffer): { header: Buffer; message: Buffer } {
  const at = content.indexOf('\n\n');
  if (at === -1) return { header: content, message: Buffer.alloc(0) };
  return { header: content.subarray(0, at), message: content.subarray(at + 2) };
}

/**
 * The header field a header line belongs to: continuation lines (starting with a space, as in
 * `gpgsig` and `mergetag`) belong to the field above them.
 */
export function headerFieldAt(lines: readonly string[], index: number): string {
  for (let i = Math.min(index, lines.length - 1); i >= 0; i--) {
    const l = lines[i] as string;
    if (!l.startsWith(' ')) {
      const sp = l.indexOf(' ');
      return sp === -1 ? l : l.slice(0, sp);
    }
  }
  return '?';
}

/** Values of one header field (first line of each occurrence), e.g. `parent`, `tree`, `object`. */
export function headerValues(header: Buffer, field: string): string[] {
  const out: string[] = [];
  for (const line of header.toString('latin1').split('\n')) {
    if (line.startsWith(`${field} `)) out.push(line.slice(field.length + 1));
  }
  return out;
}

export interface DiffTreeRecord {
  readonly commit: string;
  readonly oldMode: string;
  readonly newMode: string;
  readonly oldOid: string;
  readonly newOid: string;
  readonly status: string;
  readonly path: Buffer;
}

/**
 * `git diff-tree --stdin -r -t -m --root --no-renames -z` output: a commit id record, then
 * `:<old mode> <new mode> <old> <new> <status>` + path records. Malformed pieces are skipped.
 */
export function parseDiffTree(buf: Buffer): DiffTreeRecord[] {
  const out: DiffTreeRecord[] = [];
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const nul = buf.indexOf(0x00, pos);
    const end = nul === -1 ? buf.length : nul;
    parts.push(buf.subarray(pos, end));
    pos = end + 1;
  }
  let commit = '';
  for (let i = 0; i < parts.length; i++) {
    const text = (parts[i] as Buffer).toString('latin1').trim();
    if (/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(text)) {
      commit = text;
      continue;
    }
    const m = /^:(\d+) (\d+) ([0-9a-f]+) ([0-9a-f]+) ([A-Z])\d*$/.exec(text);
    if (!m || i + 1 >= parts.length) continue;
    out.push({ commit, oldMode: m[1] as string, newMode: m[2] as string, oldOid: m[3] as string, newOid: m[4] as string, status: m[5] as string, path: parts[i + 1] as Buffer });
    i++;
  }
  return out;
}
