import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure and loopback tests, parallel) and `lab` (tests
// against the namespaced home network: one file at a time, since they share it).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // CI=true makes picocolors colour even into pipes; tests read plain text
          env: { NO_COLOR: '1', FORCE_COLOR: '0' },
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'lab',
          env: { NO_COLOR: '1', FORCE_COLOR: '0' },
          include: ['test/lab/**/*.test.ts'],
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 180_000,
          hookTimeout: 600_000,
          globalSetup: ['test/lab/global-setup.ts'],
        },
      },
    ],
  },
});
