// Every guide page ends by sending the reader on: its last paragraph links
// the page after it in the sidebar (the last guide page, the reference).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { docsDir } from '../../.vitepress/lib/book.ts'
import { existingParts } from '../../.vitepress/lib/chapters.ts'

/** The pages the last paragraph of `text` (the page `page`) links to. */
export function lastParagraphLinks(page: string, text: string): string[] {
  const trimmed = text.trimEnd()
  const last = trimmed.slice(trimmed.lastIndexOf('\n\n') + 2)
  return [...last.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) =>
    path.posix.normalize(path.posix.join(path.posix.dirname(page), m[1]!)).replace(/\.md$/, ''),
  )
}

const pages = existingParts().flatMap((part) => part.pages)
const guide = pages.filter((page) => page.startsWith('guide/'))

describe('reading order', () => {
  it.each(guide.map((page) => [page, pages[pages.indexOf(page) + 1]] as const))(
    'docs/%s ends with a link to %s',
    (page, next) => {
      const text = readFileSync(path.join(docsDir, `${page}.md`), 'utf8')
      expect(lastParagraphLinks(page, text)).toContain(next)
    },
  )

  it('finds the links of the last paragraph only', () => {
    const text = 'See [tasks](./tasks.md).\n\nNext: [select](./select.md#top), then\n[leaks](../guide/leaks.md).\n'
    expect(lastParagraphLinks('guide/channels', text)).toEqual(['guide/select', 'guide/leaks'])
  })
})
