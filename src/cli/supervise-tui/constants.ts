/** Timings of the supervise TUI (docs/cli.md#supervise). */

/** Refresh: import spools and redraw once a second. */
export const REFRESH_MS = 1000;