// Mutation testing (npm run mutants): StrykerJS changes the code one small
// way at a time and runs the tests that cover the change; a mutant that
// no test notices is a missing test. The HTML report goes to
// .results/mutation/ (git-ignored). CPU-heavy: one test process at a time
// unless MUTANTS_CONCURRENCY says more.
//
//   npm run mutants                  src/concurrency (the default)
//   MUTANTS=jobs npm run mutants     src/jobs, against test/jobs
//   MUTANTS=store npm run mutants    src/jobs/store, against its own tests
//
// stryker.vitest.config.ts reads MUTANTS too, to pick the tests.
// What each target mutates, and the tests that may kill its mutants: the
// folder's own tests, not the slow process-level ones.
import targets from './stryker.targets.json' with { type: 'json' }

const name = process.env.MUTANTS ?? 'concurrency'
const target = targets[name]
if (target === undefined) {
  throw new Error(
    `MUTANTS must be one of ${Object.keys(targets).join(', ')}; got "${name}"`,
  )
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'stryker.vitest.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: target.mutate,
  concurrency: Number(process.env.MUTANTS_CONCURRENCY ?? 1),
  // A mutant that makes a wait endless is killed by its timeout.
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `.results/mutation/${name}.html` },
  jsonReporter: { fileName: `.results/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: [
    '.results',
    '.vitepress/cache',
    '.vitepress/dist',
    'bench/results',
    'docs',
  ],
}
