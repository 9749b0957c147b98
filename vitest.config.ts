import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test passes the leak check and makes at least one assertion.
    setupFiles: [
      'test/setup/assertions.ts',
      'test/setup/leaks.ts',
      'test/setup/example-database.ts',
    ],
    // One PostgreSQL server for the run (each test file gets a database),
    // and `dist/` built once for the tests of the compiled service.
    globalSetup: ['test/setup/postgres.ts', 'test/setup/build.ts'],
    // The claims check needs each test's file and line.
    includeTaskLocation: true,
    reporters: ['default', ['json', { outputFile: '.results/vitest.json' }]],
    // Many tests wait on child processes: even on 2 cores, two workers
    // halve the suite's time (vitest's default is one fewer than cores).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 10_000,
    hookTimeout: 10_000,
  },
})
