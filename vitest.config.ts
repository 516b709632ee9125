import { defineConfig } from 'vitest/config';

// Integration tests (real sockets, git, namespaces) share two cores with everything else on
// these machines, so timeouts are generous and files run in a bounded pool.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
