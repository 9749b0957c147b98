import { expect, it } from 'vitest'
import { listChapters, scanFences } from '../../.vitepress/lib/book.ts'

const code = new Set(['ts', 'typescript', 'js', 'javascript', 'tsx', 'mts', 'vue'])

const inline = listChapters().flatMap((chapter) =>
  scanFences(chapter.text)
    .filter((f) => code.has(f.lang))
    .map((f) => ({ where: `docs/${chapter.page}:${f.line}`, fence: f })),
)

it('every TypeScript fence written into a chapter is labelled as an illustration', () => {
  const unlabelled = inline
    .filter(({ fence }) => !fence.meta.includes('illustration'))
    .map(({ where }) => where)
  expect(unlabelled, 'import the code from src/ with <<<, or label the fence `ts illustration`')
    .toEqual([])
})

it('the illustrations stay few: this list changes only on purpose', () => {
  // Adding an inline TypeScript fence means adding it here, deliberately.
  const allowed: string[] = []
  expect(inline.map(({ where }) => where.replace(/:\d+$/, ''))).toEqual(allowed)
})
