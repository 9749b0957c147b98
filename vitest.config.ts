import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test passes the leak check and makes at least one assertion.
    setupFiles: ['test/setup/assertions.ts', 'test/setup/leaks.ts'],
    // The claims check needs each test's file and line.
    includeTaskLocation: true,
    reporters: ['default', ['json', { outputFile: '.results/vitest.json' }]],
    testTimeout: 10_000,
    hookTimeout: 10_000,
  },
})
