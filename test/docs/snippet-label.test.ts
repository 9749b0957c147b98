// An imported block names the file and line it shows: plain text, or a link
// when the site is built with a source URL (BOOK_SOURCE_URL).
import MarkdownIt from 'markdown-it'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { MarkdownRenderer } from 'vitepress'
import { root } from '../../.vitepress/lib/book.ts'
import { snippetsPlugin } from '../../.vitepress/plugins/snippets.ts'

// A file inside the project, so that its label is a path from the root.
const dir = mkdtempSync(path.join(root, '.results', 'snippet-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = path.join(dir, 'shown.ts')
writeFileSync(file, ['const a = 1', '// #region shown', 'const b = a + 1', '// #endregion shown', ''].join('\n'))
const rel = path.relative(root, file).split(path.sep).join('/')

function render(sourceUrl?: string): string {
  const md = new MarkdownIt()
  // VitePress's own `<<<` rule, which the book's rule runs before.
  md.block.ruler.before('fence', 'snippet', () => false)
  snippetsPlugin(md as unknown as MarkdownRenderer, { sourceUrl })
  return md.render(`<<< ${file}#shown{ts}\n`, { relativePath: 'guide/x.md' })
}

describe('the label above an imported block', () => {
  it('names the file and the first shown line, as text', () => {
    const html = render()
    expect(html).toContain(`<div class="book-fence book-source" data-source="${rel}#shown">`)
    expect(html).toContain(`<div class="book-fence-label"><code>${rel}:3</code></div>`)
    expect(html).toContain('const b = a + 1')
    expect(html).not.toContain('const a = 1')
  })

  it('links that line when a source URL is configured', () => {
    const html = render('https://example.org/repo/blob/main/')
    expect(html).toContain(
      `<a href="https://example.org/repo/blob/main/${rel}#L3"><code>${rel}:3</code></a>`,
    )
  })
})
