import { defineConfig } from 'vitest/config';

/**
 * `npx vitest run --config vitest.faults.config.ts`: the fault tests (test/faults), which
 * kill and restart real worker and server processes. They run the built CLI, so build first.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    // The cases kill processes and wait on timeouts: one at a time, in a process of their own.
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    globalSetup: ['test/support/temporal-server.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
