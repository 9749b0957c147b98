import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  checkSnippet,
  describeSnippetProblem,
  listChapters,
  readRegion,
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

// A reader takes in a block at a glance when it fits the page's column
// (76 characters at 688 px) and about a screen (30 lines).
const MAX_REGION_LINES = 30
const MAX_REGION_COLUMNS = 76

describe('every region a chapter shows fits the column and a screen', () => {
  it.each(chapters.map((c) => [c.page, c] as const))('docs/%s', (_page, chapter) => {
    const problems: string[] = []
    for (const ref of scanSnippets(chapter.text, chapter.file)) {
      if (ref.region === undefined || checkSnippet(ref) !== undefined) continue
      const { body } = readRegion(ref.file, ref.region)
      const widest = Math.max(...body.map((line) => line.length))
      if (body.length > MAX_REGION_LINES) {
        problems.push(describeSnippetProblem(chapter.page, ref, `${body.length} lines (most ${MAX_REGION_LINES})`))
      }
      if (widest > MAX_REGION_COLUMNS) {
        problems.push(describeSnippetProblem(chapter.page, ref, `a line of ${widest} columns (most ${MAX_REGION_COLUMNS})`))
      }
    }
    expect(problems).toEqual([])
  })
})
