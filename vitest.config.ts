import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // dist/ is built once here (the CLI and the lab's daemons run from it).
    globalSetup: ['test/support/build.ts'],
    testTimeout: 60_000,
    // Tests that spawn tshark (and later network namespaces) compete for the machine's 2 cores.
    maxWorkers: 2,
    // Under CI the JSON report feeds the "N passed, N failed" line that .ci/run prints.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]]
      : ['default'],
  },
});
