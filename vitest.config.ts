import { defineConfig } from 'vitest/config';

// Unit and integration tests (Node). Browser tests live in e2e/ and run under Playwright.
export default defineConfig({
  test: {
    include: ['shared/**/*.test.ts', 'server/**/*.test.ts', 'runtime/**/*.test.ts', 'node-volunteer/**/*.test.ts', 'web/**/*.test.ts', 'client/**/*.test.ts', 'cli/**/*.test.ts', 'examples/**/*.test.ts', 'testing/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
  },
});
