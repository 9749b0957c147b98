import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  checkSnippet,
  describeSnippetProblem,
  listChapters,
  root,
  scanSnippets,
} from '../../.vitepress/lib/book.ts'

const chapters = listChapters()

describe('every snippet a chapter imports exists and is type-checked', () => {
  it.each(chapters.map((c) => [c.page, c] as const))('docs/%s', (_page, chapter) => {
    const problems: string[] = []
    for (const ref of scanSnippets(chapter.text, chapter.file)) {
      const problem = checkSnippet(ref)
      if (problem !== undefined) {
        problems.push(describeSnippetProblem(chapter.page, ref, problem))
      }
      const rel = path.relative(root, ref.file)
      if (ref.lang === 'ts' && !ref.twoslash) {
        problems.push(
          describeSnippetProblem(chapter.page, ref, 'TypeScript must be shown with {ts twoslash}'),
        )
      }
      if (ref.lang === 'ts' && !rel.startsWith(`src${path.sep}`)) {
        problems.push(describeSnippetProblem(chapter.page, ref, 'code is imported from src/ only'))
      }
    }
    expect(problems).toEqual([])
  })
})
