/**
 * Reading `smolvm machine ls --json` (docs/decisions/smolmachines-cli-syntax.md). Pure. The JSON
 * shape is not a documented contract, so fields are read tolerantly and anything unexpected
 * reads as "not recorded" (the launch then fails closed).
 */

function machineList(lsJson: string): unknown[] {
  let doc: unknown;
  try {
    doc = JSON.parse(lsJson);
  } catch {
    return [];
  }
  if (Array.isArray(doc)) return doc;
  if (doc !== null && typeof doc === 'object' && Array.isArray((doc as { machines?: unknown }).machines)) return (doc as { machines: unknown[] }).machines;
  return [];
}

/**
 * The CIDRs smolvm recorded for machine `name`, from `smolvm machine ls --json`; null when the
 * machine or any allowlist field is missing (the launch then fails closed). Field names are read
 * tolerantly (`allowed_cidrs`, `allow_cidrs`, `allowedCidrs`, nested under `network`) because the
 * JSON shape is not a documented contract (docs/decisions/smolmachines-cli-syntax.md).
 */
export function recordedAllowlist(lsJson: string, name: string): string[] | null {
  const list = machineList(lsJson);
  const machine = list.find((m): m is Record<string, unknown> => m !== null && typeof m === 'object' && (m as { name?: unknown }).name === name);
  if (!machine) return null;
  return findCidrList(machine, 0);
}

function findCidrList(obj: Record<string, unknown>, depth: number): string[] | null {
  for (const [k, v] of Object.entries(obj)) {
    if (/^allow(ed)?_?cidrs$/i.test(k) && Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  }
  if (depth >= 2) return null;
  for (const v of Object.values(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const inner = findCidrList(v as Record<string, unknown>, depth + 1);
      if (inner !== null) return inner;
    }
  }
  return null;
}

/** True when the recorded allowlist is exactly the alias /32 (fail closed on anything else). */
export function allowlistTook(recorded: readonly string[] | null, alias: string): boolean {
  return recorded !== null && recorded.length === 1 && (recorded[0] === `${alias}/32` || recorded[0] === alias);
}

/** Machines bot-bottle made, from `machine ls --json` (name and whether it runs). */
export function listedMachines(lsJson: string, prefix: string): Array<{ name: string; running: boolean }> {
  const list = machineList(lsJson);
  const out: Array<{ name: string; running: boolean }> = [];
  for (const m of list) {
    if (m === null || typeof m !== 'object') continue;
    const name = (m as { name?: unknown }).name;
    if (typeof name !== 'string' || !name.startsWith(prefix)) continue;
    const state = String((m as { state?: unknown; status?: unknown }).state ?? (m as { status?: unknown }).status ?? '');
    out.push({ name, running: /running/i.test(state) });
  }
  return out;
}
