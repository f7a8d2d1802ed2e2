import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: tests that run several daemon processes against one MariaDB and one
 * Redis. Too heavy to share the two CI cores with the main suite, so they run on their own, one
 * file at a time.
 */
export default defineConfig({
  test: {
    name: 'cluster',
    include: ['test/cluster/**/*.test.ts'],
    environment: 'node',
    testTimeout: 600_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
    // Starts local Redis and MariaDB when they are installed but not running.
    globalSetup: ['test/global-setup.ts'],
  },
});
