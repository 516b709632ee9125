/**
 * The loopback alias pool of the smolmachines backend (docs/architecture.md#8a-the-smolmachines-and-macos-container-backends): one
 * address of 127.0.0.16–127.0.0.31 per bottle; its sidecars listen only there and its VM may
 * reach only that /32. Pure: which aliases are taken is decided by the caller
 * (loopback-alias-claims.ts) under the host-wide lock.
 */

export const ALIAS_FIRST = 16;
export const ALIAS_LAST = 31;
export const ALIAS_POOL_TEXT = `127.0.0.${ALIAS_FIRST}–127.0.0.${ALIAS_LAST}`;

export function aliasPool(): string[] {
  const out: string[] = [];
  for (let i = ALIAS_FIRST; i <= ALIAS_LAST; i += 1) out.push(`127.0.0.${i}`);
  return out;
}

export function isPoolAlias(addr: string): boolean {
  return aliasPool().includes(addr);
}

/** The lowest alias not in `used`, or null when the pool is exhausted. */
export function pickAlias(used: ReadonlySet<string>): string | null {
  return aliasPool().find((a) => !used.has(a)) ?? null;
}

/** The one error line of an exhausted pool, and what to do about it. */
export function exhaustedMessage(): { message: string; fix: string } {
  return {
    message: `no free loopback alias left in ${ALIAS_POOL_TEXT} (${ALIAS_LAST - ALIAS_FIRST + 1} smolmachines bottles run at once)`,
    fix: 'stop a running bottle, or run "bot-bottle cleanup" to release the aliases of bottles that died',
  };
}

/** Pool aliases that are up on macOS's lo0, from `ifconfig lo0` output. */
export function aliasesUp(ifconfigOutput: string): Set<string> {
  const up = new Set<string>();
  for (const m of ifconfigOutput.matchAll(/\binet (127\.0\.0\.\d+)\b/g)) if (isPoolAlias(m[1]!)) up.add(m[1]!);
  return up;
}
