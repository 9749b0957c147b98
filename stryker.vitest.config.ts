// The vitest configuration of `npm run mutants`: the project's, with only
// the tests of the target being mutated (see stryker.targets.json).
import { defineConfig } from 'vitest/config'
import base from './vitest.config.ts'
import targets from './stryker.targets.json' with { type: 'json' }

const name = process.env['MUTANTS'] ?? 'concurrency'
const target = targets[name as keyof typeof targets]

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: target.tests,
    // It compiles and runs copies of the files in other processes, where
    // no mutant is active: it can kill none, and it is slow.
    exclude: ['test/concurrency/copyable.test.ts'],
    reporters: ['default'],
    // No build of dist/: only the process tests run it, and none are here.
    // Stryker starts a new test process after each timed-out mutant, so a
    // build here (7 s of tsc) would be paid again and again.
    globalSetup: ['test/setup/postgres.ts'],
  },
})
