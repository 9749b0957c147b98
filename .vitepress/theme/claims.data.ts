// Build-time data for the claims ledger and the home page's count: every
// claim in the book, its chapter, and what the last test run said of it.
import { defineLoader } from 'vitepress'
import { listChapters, scanClaims } from '../lib/book.ts'
import { pageOrder, pageTitle } from '../lib/chapters.ts'
import { claimStatus, loadResults, type ClaimStatus } from '../lib/results.ts'

export interface ClaimRow {
  id: string
  page: string
  chapter: string
  text: string
  status: ClaimStatus
  tests: Array<{ file: string; line: number | undefined; title: string }>
}

export interface ClaimsData {
  rows: ClaimRow[]
  total: number
  verified: number
  /** When the tests behind these statuses ran, or null when they have not. */
  ranAt: string | null
}

declare const data: ClaimsData
export { data }

export default defineLoader({
  watch: ['../../docs/**/*.md', '../../.results/vitest.json'],
  load(): ClaimsData {
    const results = loadResults()
    const rows: ClaimRow[] = []
    for (const chapter of listChapters()) {
      for (const claim of scanClaims(chapter.text)) {
        const tests = results?.byClaim.get(claim.id) ?? []
        rows.push({
          id: claim.id,
          page: chapter.page.replace(/\.md$/, ''),
          chapter: pageTitle(chapter.page.replace(/\.md$/, '')),
          text: claim.text,
          status: claimStatus(tests),
          tests: tests.map(({ file, line, title }) => ({ file, line, title })),
        })
      }
    }
    rows.sort((a, b) => pageOrder(a.page) - pageOrder(b.page))
    const startTime = results?.startTime
    return {
      rows,
      total: rows.length,
      verified: rows.filter((r) => r.status === 'verified').length,
      ranAt: startTime === undefined ? null : new Date(startTime).toISOString(),
    }
  },
})
