import { defineConfig } from 'vitest/config';

// The end-to-end test: one file, one process, generous but finite timeouts
// (each step inside has its own, shorter one).
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 420_000,
    hookTimeout: 300_000,
    teardownTimeout: 30_000,
    reporters: ['verbose'],
  },
});
