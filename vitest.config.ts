import { configDefaults, defineConfig } from 'vitest/config';

/** Every test file; each lands in exactly one project (checked by test/test-projects.test.ts). */
export const ALL_TESTS = ['test/**/*.test.ts'];

/**
 * `npm run test:unit`: pure, fast tests — no root, no spawned daemons or CLI processes, no network
 * sockets, no git subprocesses (temporary files are fine). Files are named one by one or by a
 * directory whose every test is pure; anything else (and every new file) is integration, so a file
 * is never silently dropped. A directory glob here is a promise about future files too: only list
 * directories whose modules are pure by design.
 */
export const UNIT_TESTS = [
  'test/architecture.test.ts',
  'test/test-projects.test.ts',
  'test/dlp/**/*.test.ts',
  'test/manifest/**/*.test.ts',
  'test/egress/pure.test.ts',
  'test/egress/normalize.test.ts',
  'test/egress/dns-exfil.test.ts',
  'test/gate/policy.test.ts',
  'test/gate/units.test.ts',
  'test/plan/**/*.test.ts',
  'test/providers/claude.test.ts',
  'test/providers/codex.test.ts',
  'test/providers/pi.test.ts',
  'test/backends/netns-pure.test.ts',
  'test/backends/runtime-dir.test.ts',
  'test/cli/no-color.test.ts',
  'test/cli/json-flag.test.ts',
  'test/backends/netns-seccomp-bpf.test.ts',
  'test/egress/fuzz-parse.test.ts',
  'test/supervise/daemon-pure.test.ts',
];

const EXCLUDE = [...configDefaults.exclude];

// Integration tests (real sockets, git, namespaces) share two cores with everything else on
// these machines, so timeouts are generous and files run in a bounded pool. Both projects extend
// these settings; plain `vitest run` runs both.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT_TESTS, exclude: EXCLUDE } },
      { extends: true, test: { name: 'integration', include: ALL_TESTS, exclude: [...EXCLUDE, ...UNIT_TESTS] } },
    ],
  },
});
