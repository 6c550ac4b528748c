import { defineConfig } from 'vitest/config';

// Tests talk to real servers (Temporal, PostgreSQL, sandboxes): give them room, and keep
// the number of parallel files low because the machine has two cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'connectors/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    setupFiles: ['test/setup.ts'],
  },
});
