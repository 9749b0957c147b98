// `::: claim id` ... `:::` becomes a callout that shows whether the claim is
// verified, failing or not run, and which tests prove it. The status comes
// from vitest's JSON report of the last run; with no report every claim says
// "not run", never "verified".
import container from 'markdown-it-container'
import type { MarkdownRenderer as MarkdownIt } from 'vitepress'
import { claimStatus, loadResults, type ClaimStatus } from '../lib/results.ts'

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
      const { tests } = claimAt(tokens[open]!.info)
      const proofs = tests
        .map(
          (t) =>
            `<li><code>${esc(t.file)}:${t.line ?? '?'}</code> ` +
            `<span class="claim-test-title">${esc(t.title)}</span> ` +
            `<span class="claim-test-status">${t.status}</span></li>`,
        )
        .join('')
      const proved = tests.length === 0
        ? '<div class="claim-proof">no test result for this claim</div>'
        : `<div class="claim-proof">Proved by:<ul>${proofs}</ul></div>`
      return `</div>${proved}</div>\n`
    },
  })
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
