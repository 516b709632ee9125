/**
 * Reading Apple `container` JSON output (docs/decisions/macos-container-network.md). Pure and
 * tolerant: the shapes are not a documented contract; anything unexpected reads as "not found".
 */

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Depth-first walk over every object in a JSON value. */
function* objects(v: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (depth > 8 || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) yield* objects(x, depth + 1);
    return;
  }
  yield v as Record<string, unknown>;
  for (const x of Object.values(v as Record<string, unknown>)) yield* objects(x, depth + 1);
}

/**
 * The container's IPv4 address on `network`, from `container inspect` (an attachment object
 * naming the network, with `ipv4Address` or `address` as `a.b.c.d/len`); null when absent.
 */
export function addressOn(inspectJson: string, network: string): string | null {
  for (const o of objects(parse(inspectJson))) {
    if (o.network !== network) continue;
    for (const k of ['ipv4Address', 'address', 'ipAddress']) {
      const v = o[k];
      const m = typeof v === 'string' ? /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/\d+)?$/.exec(v) : null;
      if (m) return m[1]!;
    }
  }
  return null;
}

export interface ListedContainer {
  name: string;
  labels: Record<string, string>;
  running: boolean;
}

/** Containers from `container list --format json` whose id/name starts with `prefix`. */
export function listedContainers(listJson: string, prefix: string): ListedContainer[] {
  const doc = parse(listJson);
  const out: ListedContainer[] = [];
  for (const entry of Array.isArray(doc) ? doc : []) {
    if (entry === null || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const cfg = (e.configuration !== null && typeof e.configuration === 'object' ? e.configuration : e) as Record<string, unknown>;
    const name = typeof cfg.id === 'string' ? cfg.id : typeof e.name === 'string' ? e.name : null;
    if (name === null || !name.startsWith(prefix)) continue;
    const rawLabels = cfg.labels !== null && typeof cfg.labels === 'object' ? (cfg.labels as Record<string, unknown>) : {};
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(rawLabels)) if (typeof v === 'string') labels[k] = v;
    out.push({ name, labels, running: /running/i.test(String(e.status ?? e.state ?? '')) });
  }
  return out;
}

/** Network names from `container network list --format json` that start with `prefix`. */
export function listedNetworks(listJson: string, prefix: string): string[] {
  const doc = parse(listJson);
  const out: string[] = [];
  for (const entry of Array.isArray(doc) ? doc : []) {
    if (entry === null || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const cfg = (e.config !== null && typeof e.config === 'object' ? e.config : e) as Record<string, unknown>;
    const name = typeof e.id === 'string' ? e.id : typeof cfg.id === 'string' ? cfg.id : typeof e.name === 'string' ? e.name : null;
    if (name !== null && name.startsWith(prefix)) out.push(name);
  }
  return out;
}
