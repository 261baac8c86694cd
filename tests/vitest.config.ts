import { defineConfig } from 'vitest/config';

// Real processes on 2 cores: one file at a time, generous timeouts.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
