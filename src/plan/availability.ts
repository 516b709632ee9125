/**
 * Parts of the specified system this version does not have, in one place, so every surface (plan,
 * preflight, info) says the same thing and flips together when a part lands
 * (docs/decisions/supervise-not-available.md, docs/decisions/supervise-daemon-available.md).
 */

/** The words every surface uses for a missing part. */
export const NOT_AVAILABLE = 'not available in this version';

/**
 * The supervise daemon (MCP server for the agent, internal API for egress and the git gate). True
 * since it landed (docs/decisions/supervise-daemon-available.md): the sidecar runs it, the plan
 * keeps the provider's MCP registration. Kept as a switch so a build without it stays honest.
 */
export const SUPERVISE_AVAILABLE: boolean = true;

/**
 * Whether the agent image the cascade picks gets built (docs/plan-json.md `provider.imageBuild`).
 * It depends on the backend, which the caller asks (`Backend.buildsCustomImages`; the plan never
 * loads a backend): docker builds it; netns runs the host's agent CLI; smolmachines and
 * macos-container use an image built beforehand. Without a backend (`info`), it says which one
 * builds it.
 */
export function imageBuildAvailability(backend: string | null, builds: boolean): { available: boolean; note: string | null } {
  if (builds) return { available: true, note: null };
  if (backend === null) return { available: true, note: 'built by the docker backend' };
  return { available: false, note: `the ${backend} backend does not build agent images` };
}
