/**
 * The little of the ustar format the engine's archive endpoint needs (docker-ca-trust.ts): write
 * regular files with their owner and mode, read the first entry of what the engine sends back.
 * Pure; no dependency for ~60 lines.
 */

export interface TarFile {
  /** Relative to the extraction root, no leading slash. */
  name: string;
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

export interface TarEntry {
  name: string;
  /** '0' regular file, '2' symlink, '5' directory, … (ustar typeflag). */
  type: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  content: Buffer;
}

const BLOCK = 512;

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(f: TarFile): Buffer {
  let name = f.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar: path too long for ustar: ${f.name}`);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(f.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(f.uid, 8), 108, 'ascii');
  h.write(octal(f.gid, 8), 116, 'ascii');
  h.write(octal(f.content.length, 12), 124, 'ascii');
  h.write(octal(Math.floor(f.mtime), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  h.write('0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'binary');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** A tar stream of regular files (each header, its content padded to 512, two zero blocks). */
export function tarFiles(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(header(f), f.content);
    const pad = (BLOCK - (f.content.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function str(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return (nul === -1 ? s : s.subarray(0, nul)).toString('utf8');
}

function num(b: Buffer, off: number, len: number): number {
  const s = str(b, off, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** The first file, link or directory entry of a tar stream (PAX/GNU extension headers skipped), or null. */
export function firstTarEntry(tar: Buffer): TarEntry | null {
  for (let off = 0; off + BLOCK <= tar.length; ) {
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return null;
    const size = num(h, 124, 12);
    const type = str(h, 156, 1) || '0';
    const body = off + BLOCK;
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      off = body + Math.ceil(size / BLOCK) * BLOCK;
      continue;
    }
    if (body + size > tar.length) throw new Error('tar: truncated entry');
    const prefix = str(h, 345, 155);
    const name = str(h, 0, 100);
    return {
      name: prefix ? `${prefix}/${name}` : name,
      type,
      linkname: str(h, 157, 100),
      mode: num(h, 100, 8),
      uid: num(h, 108, 8),
      gid: num(h, 116, 8),
      content: Buffer.from(tar.subarray(body, body + size)),
    };
  }
  return null;
}
