// Reads vitest's own JSON report (.results/vitest.json) and answers, for each
// claim id, which tests prove it and whether they passed. Text search over
// test files is never used: a skipped or failing test must not count.
import { existsSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { claimTitlePattern, root } from './book.ts'

export const resultsFile = path.join(root, '.results', 'vitest.json')

export type TestStatus =
  | 'passed'
  | 'failed'
  | 'skipped'
  | 'pending'
  | 'todo'
  | 'disabled'

export interface TestResult {
  /** Path relative to the project root. */
  file: string
  line: number | undefined
  title: string
  fullName: string
  status: TestStatus
}

export type ClaimStatus = 'verified' | 'failing' | 'not run'

export interface JsonReport {
  startTime?: number
  testResults: Array<{
    name: string
    assertionResults: Array<{
      title: string
      fullName: string
      status: TestStatus
      location?: { line: number; column: number } | null
    }>
  }>
}

export interface Results {
  /** When the test run started (ms since epoch), if known. */
  startTime: number | undefined
  tests: TestResult[]
  byClaim: Map<string, TestResult[]>
}

let cache: { mtimeMs: number; results: Results } | undefined

/** The last run's results, or undefined when tests have not been run. */
export function loadResults(file = resultsFile): Results | undefined {
  if (!existsSync(file)) return undefined
  const { mtimeMs } = statSync(file)
  if (cache && cache.mtimeMs === mtimeMs && file === resultsFile) {
    return cache.results
  }
  const results = parseResults(
    JSON.parse(readFileSync(file, 'utf8')) as JsonReport,
  )
  if (file === resultsFile) cache = { mtimeMs, results }
  return results
}

/** Indexes a vitest JSON report by the claim id each test title names. */
export function parseResults(report: JsonReport): Results {
  const tests: TestResult[] = []
  for (const suite of report.testResults) {
    const rel = path.relative(root, suite.name).split(path.sep).join('/')
    for (const t of suite.assertionResults) {
      tests.push({
        file: rel,
        line: t.location?.line,
        title: t.title,
        fullName: t.fullName,
        status: t.status,
      })
    }
  }
  const byClaim = new Map<string, TestResult[]>()
  for (const t of tests) {
    const id = claimTitlePattern.exec(t.title)?.[1]
    if (id === undefined) continue
    const list = byClaim.get(id) ?? []
    list.push(t)
    byClaim.set(id, list)
  }
  return { startTime: report.startTime, tests, byClaim }
}
/** Verified only when at least one test ran and every one of them passed. */
export function claimStatus(tests: TestResult[] | undefined): ClaimStatus {
  if (!tests || tests.length === 0) return 'not run'
  if (tests.some((t) => t.status === 'failed')) return 'failing'
  if (tests.every((t) => t.status === 'passed')) return 'verified'
  return 'not run'
}
