/**
 * Parts of the specified system this version does not have, in one place, so every surface (plan,
 * preflight, info) says the same thing and flips together when a part lands
 * (docs/decisions/supervise-not-available.md).
 */

/** The words every surface uses for a missing part. */
export const NOT_AVAILABLE = 'not available in this version';

/**
 * The supervise daemon (MCP server and operator queue). While false the sidecar skips it, the
 * plan drops the provider's MCP registration command, and egress DLP `supervise` holds fail
 * closed (docs/decisions/egress-supervise-holds.md).
 */
export const SUPERVISE_AVAILABLE: boolean = false;

/**
 * Building agent images (the image cascade, docs/plan-json.md `provider.imageSource`). No backend
 * of this version builds images: netns runs the host's binaries, the image backends are not
 * implemented.
 */
export const IMAGE_BUILD_AVAILABLE: boolean = false;
