/**
 * The importer's last check (docs/supervise.md): payloads are masked in the sidecar, so a
 * token pattern that still matches means the masking failed (or a compromised sidecar is trying
 * to park a secret in the host store). Such a proposal is never stored.
 */
import { createScanner, type Finding, type Scanner } from '../../dlp/index.js';

let scanner: Scanner | undefined;

/** Token-pattern findings in the proposal's text (justification + payload JSON); [] = safe. */
export function unsafeFindings(justification: string | null, payload: unknown): Finding[] {
  // No known secrets on the host side and a fixed key: fingerprints here only label audit rows.
  scanner ??= createScanner({ knownSecrets: [], fingerprintKey: new Uint8Array(32) });
  const surfaces = [{ name: 'payload', text: JSON.stringify(payload) }];
  if (justification) surfaces.push({ name: 'justification', text: justification });
  return scanner.scan(surfaces, new Set(['token_patterns'])).filter((f) => f.severity !== 'warn');
}
