import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Every answer of a declared operation is checked against its OpenAPI schema (src/http/openapi.ts).
          env: { STOCKBRIDGE_CHECK_RESPONSES: '1' },
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Starts local Redis and MariaDB when they are installed but not running.
          globalSetup: ['test/global-setup.ts'],
          environment: 'node',
          // Every answer of a declared operation is checked against its OpenAPI schema (src/http/openapi.ts).
          env: { STOCKBRIDGE_CHECK_RESPONSES: '1' },
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Each file gets its own database and queue prefix, so files may run side by side;
          // two at a time matches the two cores of the CI machine.
          maxWorkers: 2,
        },
      },
    ],
  },
});
