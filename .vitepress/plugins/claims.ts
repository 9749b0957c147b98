// `::: claim id` ... `:::` becomes a callout that shows whether the claim is
// verified, failing or not run, and which tests prove it. The status comes
// from vitest's JSON report of the last run; with no report every claim says
// "not run", never "verified".
import container from 'markdown-it-container'
import type { MarkdownRenderer as MarkdownIt } from 'vitepress'
import {
  claimStatus,
  loadResults,
  type ClaimStatus,
  type TestResult,
} from '../lib/results.ts'

type Plugin = (md: MarkdownIt, name: string, options: object) => void

const label: Record<ClaimStatus, string> = {
  verified: '✓ verified',
  failing: '✗ failing',
  'not run': '○ not run',
}

export function claimsPlugin(md: MarkdownIt): void {
  // The container's types name markdown-it's own class, VitePress re-types it.
  md.use(container as unknown as Plugin, 'claim', {
    render(tokens: Array<{ nesting: number; info: string; type: string }>, idx: number) {
      const token = tokens[idx]!
      if (token.nesting === 1) {
        const { id, status } = claimAt(token.info)
        return (
          `<div class="claim claim-${status.replace(' ', '-')}" id="claim-${esc(id)}">` +
          `<div class="claim-head">` +
          `<span class="claim-badge">${label[status]}</span>` +
          `<a class="claim-id" href="#claim-${esc(id)}">${esc(id)}</a>` +
          `</div><div class="claim-body">\n`
        )
      }
      // The closing token: find its opening one to list the proofs after the text.
      let depth = 0
      let open = idx
      for (let i = idx; i >= 0; i--) {
        const t = tokens[i]!
        if (t.type === 'container_claim_close') depth++
        if (t.type === 'container_claim_open' && --depth === 0) {
          open = i
          break
        }
      }
      const { tests, status } = claimAt(tokens[open]!.info)
      return `</div>${proofList(tests, status)}</div>\n`
    },
  })
}

/**
 * The tests behind a claim, grouped by file, in a `<details>` that stays
 * closed while they all passed and opens when one failed or did not run.
 */
export function proofList(tests: TestResult[], status: ClaimStatus): string {
  if (tests.length === 0) {
    return '<div class="claim-proof">no test result for this claim</div>'
  }
  // One row per test of a file; the cases of one `it.each` share a row.
  const files = new Map<string, Map<string, TestResult[]>>()
  for (const t of tests) {
    const rows = files.get(t.file) ?? new Map<string, TestResult[]>()
    const key = `${t.line ?? '?'} ${t.title}`
    rows.set(key, [...(rows.get(key) ?? []), t])
    files.set(t.file, rows)
  }
  const row = (cases: TestResult[]): string => {
    const t = cases[0]!
    const times = cases.length > 1 ? ` <span class="claim-test-cases">×${cases.length}</span>` : ''
    const bad = [...new Set(cases.map((c) => c.status).filter((s) => s !== 'passed'))]
    const state = bad.length === 0 ? '' : ` <span class="claim-test-status">${esc(bad.join(', '))}</span>`
    return (
      `<li><span class="claim-test-line">:${t.line ?? '?'}</span> ` +
      `<span class="claim-test-title">${esc(t.title)}</span>${times}${state}</li>`
    )
  }
  const groups = [...files]
    .map(([file, rows]) => `<li><code>${esc(file)}</code><ul>${[...rows.values()].map(row).join('')}</ul></li>`)
    .join('')
  const count = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`
  const summary =
    `Proved by ${count(tests.length, 'test')}` +
    (files.size > 1 ? ` in ${count(files.size, 'file')}` : '') +
    (status === 'verified' ? ', all passed' : '')
  const open = status === 'verified' ? '' : ' open'
  return (
    `<details class="claim-proof"${open}><summary>${summary}</summary>` +
    `<ul class="claim-proof-files">${groups}</ul></details>`
  )
}

function claimAt(info: string) {
  const id = info.trim().replace(/^claim\s*/, '')
  const tests = loadResults()?.byClaim.get(id) ?? []
  return { id, tests, status: claimStatus(tests) }
}

function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\{/g, '&#123;')
    .replace(/\}/g, '&#125;')
}
