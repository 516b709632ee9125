/** Timings of the supervise TUI (docs/cli.md#supervise). */

/** Refresh: import spools and redraw once a second. */
export const REFRESH_MS = 1000;
/** A bottle whose supervise heartbeat is older than this is shown offline (supervise spec §7). */
export const HEARTBEAT_OFFLINE_SECONDS = 15;
