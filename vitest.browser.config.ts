import { defineConfig } from 'vitest/config'

// The site in a real browser, after `vitepress build`: `npm run test:browser`.
// Its files end in `.browser.ts`, so the main `vitest run` never picks them up.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    // Every test makes at least one assertion. No leak check here: the
    // browser and the server are started once for the file, on purpose.
    setupFiles: ['test/setup/assertions.ts'],
    // One file, one browser; its pages run in parallel inside it.
    fileParallelism: false,
    reporters: ['default', ['json', { outputFile: '.results/browser.json' }]],
    testTimeout: 30_000,
    // The whole site is visited in one beforeAll: 90 to 150 CPU-seconds
    // (measured), so a minute or more on 2 cores, three when shared.
    hookTimeout: 480_000,
  },
})
