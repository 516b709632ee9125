/**
 * The exposure abort (docs/architecture.md §4.3, step 7): a resolved credential must not ALSO reach
 * the agent through its env, guest files or prompt — e.g. `env: {API: "${GITHUB_TOKEN}"}` next to a
 * route with `token_ref: GITHUB_TOKEN`. Pure; names variables and places, never values.
 */
import { BottleError } from '../errors.js';

/** Shorter values would match by accident (and egress skips them as known secrets too). */
export const MIN_EXPOSURE_LENGTH = 8;

export interface ExposureSurfaces {
  readonly env: Readonly<Record<string, string>>;
  readonly files: ReadonlyArray<{ readonly path: string; readonly content: string }>;
  readonly prompt: string;
}

export function checkTokenExposure(
  resolved: Readonly<Record<string, string>>,
  tokenEnvMap: Readonly<Record<string, string>>,
  surfaces: ExposureSurfaces,
): void {
  for (const [slot, value] of Object.entries(resolved)) {
    if (value.length < MIN_EXPOSURE_LENGTH) continue;
    const ref = tokenEnvMap[slot] ?? slot;
    const kind = slot.startsWith('GIT_GATE_') ? 'a git-gate credential' : 'an egress credential';
    const where: string[] = [];
    for (const [name, v] of Object.entries(surfaces.env)) if (v.includes(value)) where.push(`env ${name}`);
    for (const f of surfaces.files) if (f.content.includes(value)) where.push(`file ${f.path}`);
    if (surfaces.prompt.includes(value)) where.push('prompt');
    if (where.length > 0) {
      throw new BottleError(
        'CONFIG_INVALID',
        `host variable ${ref} is ${kind} and would also be visible to the agent (${where.join(', ')}); remove one of them`,
        { data: { variable: ref, places: where } },
      );
    }
  }
}
