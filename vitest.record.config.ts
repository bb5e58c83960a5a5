import { defineConfig } from 'vitest/config';

/** `npm run record-histories`: run every TaskservInstall path for real and save its history. */
export default defineConfig({
  test: {
    include: ['test/record/**/*.record.ts'],
    pool: 'forks',
    globalSetup: ['test/support/temporal-server.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
