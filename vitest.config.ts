import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/globalSetup.ts'],
    // The default output, plus every skipped test with its reason (a skip is never silent).
    reporters: ['default', './test/helpers/skipReporter.ts'],
    // End-to-end files each start real servers with Pyodide workers; two at a time fit two cores.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
