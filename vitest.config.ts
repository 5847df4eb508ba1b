import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Network-namespace and tshark tests spawn processes; keep workers to the machine's 2 cores.
    maxWorkers: 2,
  },
});
