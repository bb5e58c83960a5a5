import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fault tests kill and restart real processes: `npm run test:faults`, one at a time.
    exclude: ['test/faults/**', '**/node_modules/**'],
    // The Temporal worker's native bridge wants a process of its own, not a worker thread.
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/support/temporal-server.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
