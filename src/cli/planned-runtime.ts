/**
 * The runtime the preflight's backend line shows (`backend docker  runtime runsc`, docs/cli.md):
 * what the chosen backend would use now. A dry run still shows its plan when the backend refuses
 * (a required runtime missing): the refusal becomes a warning there; a real launch stops on it
 * before creating anything.
 */
import type { Backend } from '../backends/backend.js';
import { BottleError } from '../errors.js';

export async function plannedRuntime(backend: Backend | null, dryRun: boolean): Promise<{ runtime: string | null; warnings: string[] }> {
  if (!backend?.plannedRuntime) return { runtime: null, warnings: [] };
  try {
    const r = await backend.plannedRuntime();
    return { runtime: r?.runtime ?? null, warnings: r?.warning ? [r.warning] : [] };
  } catch (e) {
    if (dryRun && e instanceof BottleError) return { runtime: null, warnings: [e.oneLine()] };
    throw e;
  }
}
