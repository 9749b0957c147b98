import { readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { listChapters, root, scanFences } from '../../.vitepress/lib/book.ts'
import { compareOutput } from './output-match.ts'

const examplesDir = path.join(root, 'src', 'examples')
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort()

const fences = listChapters().flatMap((chapter) =>
  scanFences(chapter.text)
    .filter((f) => f.meta.some((m) => m.startsWith('output=')))
    .map((f) => ({
      where: `docs/${chapter.page}:${f.line}`,
      name: f.meta.find((m) => m.startsWith('output='))!.slice(7),
      unordered: f.meta.includes('unordered'),
      varyMs: f.meta.includes('vary=ms'),
      lines: f.content,
    })),
)

describe('every example in src/examples has an output fence in a chapter', () => {
  it.each(examples)('%s', (name) => {
    const where = fences.filter((f) => f.name === name).map((f) => f.where)
    expect(where, `src/examples/${name}.ts has no \`\`\`text output=${name} fence`)
      .not.toEqual([])
  })
})

describe('what each chapter shows is what its example prints', () => {
  it.each(fences.map((f) => [`${f.where} output=${f.name}`, f] as const))(
    '%s',
    async (_title, fence) => {
      expect(examples, `${fence.where}: no src/examples/${fence.name}.ts`)
        .toContain(fence.name)
      const module = (await import(path.join(examplesDir, `${fence.name}.ts`))) as {
        main?: (out: (line: string) => void) => Promise<void>
      }
      expect(module.main, `src/examples/${fence.name}.ts exports no main`)
        .toBeTypeOf('function')
      const lines: string[] = []
      await module.main!((line) => lines.push(String(line)))
      const problems = compareOutput(fence.lines, lines, fence)
      expect(problems, `${fence.where}: the fence differs from a real run`)
        .toEqual([])
    },
  )
})
