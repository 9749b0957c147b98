// The book's reading order. The sidebar shows the pages that exist.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { docsDir } from './book.ts'

export const parts: Array<{ title: string; pages: string[] }> = [
  { title: 'Start here', pages: ['guide/why-background-workers'] },
  {
    title: "Go's concurrency in TypeScript",
    pages: ['tasks', 'channels', 'select', 'cancellation', 'waiting', 'leaks']
      .map((p) => `guide/${p}`),
  },
  {
    title: 'The job service',
    pages: [
      'service-skeleton',
      'creating-jobs',
      'store',
      'worker',
      'worker-pool',
      'durable-store',
      'configuration',
    ].map((p) => `guide/${p}`),
  },
  {
    title: 'Jobs that fail, stall and burn CPU',
    pages: ['states', 'retries', 'timeouts', 'cpu-threads', 'observability']
      .map((p) => `guide/${p}`),
  },
  {
    title: 'Stopping and starting',
    pages: ['graceful-shutdown', 'hostile-clients', 'recovery', 'testing']
      .map((p) => `guide/${p}`),
  },
  {
    title: 'Many processes, one queue',
    pages: ['many-instances', 'at-least-once'].map((p) => `guide/${p}`),
  },
  {
    title: 'Reference',
    pages: [
      'go-to-typescript',
      'http-api',
      'configuration',
      'pictures',
      'claims',
      'performance',
      'mutation-testing',
    ]
      .map((p) => `reference/${p}`),
  },
]

/** The first `# ` heading of a page, or its file name. */
export function pageTitle(page: string): string {
  const file = path.join(docsDir, `${page}.md`)
  const heading = /^#\s+(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1]
  return heading?.trim() ?? path.basename(page)
}

export function existingParts(): Array<{ title: string; pages: string[] }> {
  return parts
    .map((part) => ({
      title: part.title,
      pages: part.pages.filter((p) => existsSync(path.join(docsDir, `${p}.md`))),
    }))
    .filter((part) => part.pages.length > 0)
}

/** Reading position of a page (for ordering the claims ledger). */
export function pageOrder(page: string): number {
  const all = parts.flatMap((p) => p.pages)
  const i = all.indexOf(page.replace(/\.md$/, ''))
  return i < 0 ? all.length : i
}
