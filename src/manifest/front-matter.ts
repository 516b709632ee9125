/**
 * Splits a manifest into YAML front-matter and body, and parses the front-matter as one YAML 1.2
 * core-schema document (docs/configuration.md §2). The AST is converted by hand so that we can
 * refuse duplicate keys, anchors/aliases, explicit tags and non-string keys, and remember the
 * position of every key for `file:line:col` errors.
 */
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, type Node as YNode } from 'yaml';

export interface Pos {
  readonly line: number;
  readonly column: number;
}
export interface NodePos {
  readonly key?: Pos;
  readonly value: Pos;
}
/** keyPath → position of the key (when the node is a map value) and of the value. */
export type PositionMap = ReadonlyMap<string, NodePos>;

export type PathSeg = string | number;
export function keyPathOf(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export interface ParsedFrontMatter {
  /** Null-prototype object tree (never a list or scalar at the top). */
  readonly data: Record<string, unknown>;
  readonly body: string;
  readonly positions: PositionMap;
  /** Syntax-level problems; when non-empty `data` may be incomplete. */
  readonly problems: ReadonlyArray<{ readonly pos: Pos; readonly keyPath: string; readonly message: string }>;
}

const OPEN = /^---[ \t]*$/;

export function splitFrontMatter(text: string): { yaml: string | null; body: string; firstLine: number; unterminated: boolean } {
  const lines = text.split('\n');
  if (lines.length === 0 || !OPEN.test(lines[0] ?? '')) return { yaml: null, body: text, firstLine: 1, unterminated: false };
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i];
    if (l === '---' || l === '...') {
      return { yaml: lines.slice(1, i).join('\n'), body: lines.slice(i + 1).join('\n'), firstLine: 2, unterminated: false };
    }
  }
  return { yaml: null, body: '', firstLine: 2, unterminated: true };
}

/** Decodes file bytes: UTF-8 (fatal), BOM dropped, CRLF → LF. Returns null when not UTF-8. */
export function decodeManifest(bytes: Uint8Array): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.replace(/\r\n/g, '\n');
}

function parseYaml(src: string, lc: LineCounter) {
  return parseDocument(src, {
    version: '1.2',
    schema: 'core',
    uniqueKeys: false, // we report duplicates ourselves, naming the key
    merge: false,
    prettyErrors: false,
    lineCounter: lc,
    strict: true,
  });
}

export function parseFrontMatter(text: string): ParsedFrontMatter {
  const split = splitFrontMatter(text);
  const problems: Array<{ pos: Pos; keyPath: string; message: string }> = [];
  const positions = new Map<string, NodePos>();
  const empty = Object.create(null) as Record<string, unknown>;
  if (split.unterminated) {
    problems.push({ pos: { line: 1, column: 1 }, keyPath: '', message: 'unterminated front-matter: no closing "---" line' });
    return { data: empty, body: '', positions, problems };
  }
  if (split.yaml === null) return { data: empty, body: split.body, positions, problems };

  const lc = new LineCounter();
  const lineBase = split.firstLine - 1;
  const posAt = (offset: number | undefined): Pos => {
    const p = lc.linePos(Math.max(0, offset ?? 0));
    return { line: p.line + lineBase, column: p.col };
  };
  let doc;
  try {
    doc = parseYaml(split.yaml, lc);
  } catch (e) {
    // The parser recurses; absurd nesting must be a manifest error, not a crash.
    if (!(e instanceof RangeError)) throw e;
    problems.push({ pos: { line: split.firstLine, column: 1 }, keyPath: '', message: 'front-matter is nested too deeply to parse' });
    return { data: empty, body: split.body, positions, problems };
  }
  for (const e of doc.errors) {
    const message =
      e.code === 'MULTIPLE_DOCS'
        ? 'front-matter must be a single YAML document'
        : /call stack/i.test(e.message)
          ? 'front-matter is nested too deeply to parse'
          : `invalid YAML: ${e.message.split('\n')[0] ?? e.code}`;
    problems.push({ pos: posAt(e.pos[0]), keyPath: '', message });
  }
  if (problems.length > 0) return { data: empty, body: split.body, positions, problems };

  const fail = (node: { range?: [number, number, number] | null } | null | undefined, path: PathSeg[], message: string): void => {
    problems.push({ pos: posAt(node?.range?.[0]), keyPath: keyPathOf(path), message });
  };

  const convert = (node: unknown, path: PathSeg[], depth: number): unknown => {
    if (node === null || node === undefined) return null;
    if (depth > 64) {
      fail(node as YNode, path, 'front-matter is nested too deeply');
      return null;
    }
    if (isAlias(node)) {
      fail(node, path, 'YAML anchors and aliases are not allowed');
      return null;
    }
    const n = node as YNode;
    if ('anchor' in n && n.anchor) {
      fail(n, path, 'YAML anchors and aliases are not allowed');
      return null;
    }
    if ('tag' in n && n.tag) {
      fail(n, path, `explicit YAML tags (${n.tag.startsWith('tag:yaml.org,2002:') ? `!!${n.tag.slice(18)}` : n.tag}) are not allowed; quote the value instead`);
      return null;
    }
    if (isScalar(n)) {
      const v = n.value;
      if (typeof v === 'number' && !Number.isFinite(v)) return v; // .inf/.nan: schema rejects later
      return v;
    }
    if (isSeq(n)) {
      return n.items.map((item, i) => {
        const p = [...path, i];
        const at = (item as YNode | null)?.range;
        if (at) positions.set(keyPathOf(p), { value: posAt(at[0]) });
        return convert(item, p, depth + 1);
      });
    }
    if (isMap(n)) {
      const obj = Object.create(null) as Record<string, unknown>;
      const seen = new Set<string>();
      for (const pair of n.items) {
        if (!isPair(pair)) continue;
        const k = pair.key;
        if (isAlias(k) || (k && typeof k === 'object' && 'anchor' in k && (k as YNode & { anchor?: string }).anchor)) {
          fail(k as YNode, path, 'YAML anchors and aliases are not allowed');
          continue;
        }
        if (!isScalar(k) || typeof k.value !== 'string' || k.tag) {
          const shown = isScalar(k) ? String(k.value) : k === null ? 'an empty key' : 'a collection';
          fail(k as YNode | null, path, `mapping keys must be strings (got ${shown}); quote the key`);
          continue;
        }
        const key = k.value;
        const p = [...path, key];
        if (seen.has(key)) {
          fail(k, p, `duplicate key "${key}"`);
          continue;
        }
        seen.add(key);
        const vNode = pair.value as YNode | null;
        positions.set(keyPathOf(p), { key: posAt(k.range?.[0]), value: vNode?.range ? posAt(vNode.range[0]) : posAt(k.range?.[0]) });
        obj[key] = convert(vNode, p, depth + 1);
      }
      return obj;
    }
    fail(n, path, 'unsupported YAML node');
    return null;
  };

  const root = convert(doc.contents, [], 0);
  if (problems.length > 0) return { data: empty, body: split.body, positions, problems };
  if (root === null) return { data: empty, body: split.body, positions, problems };
  if (typeof root !== 'object' || Array.isArray(root)) {
    problems.push({ pos: posAt(doc.contents?.range?.[0]), keyPath: '', message: `front-matter must be a mapping (got ${Array.isArray(root) ? 'a list' : 'a scalar'})` });
    return { data: empty, body: split.body, positions, problems };
  }
  return { data: root as Record<string, unknown>, body: split.body, positions, problems };
}
