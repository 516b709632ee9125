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
 * Building agent images (the image cascade, docs/plan-json.md `provider.imageSource`). No backend
 * of this version builds images: netns runs the host's binaries, the image backends are not
 * implemented.
 */
export const IMAGE_BUILD_AVAILABLE: boolean = false;
