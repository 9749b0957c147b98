// Readers copy these files into their own projects. This copies each one,
// with the siblings it imports, into an empty folder of its own, compiles
// all the copies with one tsc run under the strictest settings in common
// use, and runs with plain Node the usage example of each file's header.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')
const source = join(root, 'src/concurrency')
const files = readdirSync(source).filter((name) => name.endsWith('.ts')).sort()

/** The siblings `file` imports, directly or not, and `file` itself. */
function withSiblings(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen
  seen.add(file)
  const text = readFileSync(join(source, file), 'utf8')
  for (const [, sibling] of text.matchAll(/from '\.\/([\w-]+\.ts)'/g)) {
    withSiblings(sibling!, seen)
  }
  return seen
}

/** The ```ts block of the file's header comment, and what it prints. */
function headerExample(file: string): { code: string; prints: string[] } {
  const lines: string[] = []
  for (const line of readFileSync(join(source, file), 'utf8').split('\n')) {
    if (!/^\s*(?:\/\/|\/\*|\*)/.test(line)) break // the header ends
    lines.push(line.replace(/^\s*(?:\/\/|\*)(?: |$)/, ''))
  }
  const start = lines.indexOf('```ts')
  const end = lines.indexOf('```', start + 1)
  if (start < 0 || end < 0) return { code: '', prints: [] }
  const code = lines.slice(start + 1, end).join('\n')
  const prints = [...code.matchAll(/\/\/ → (.*)$/gm)].map((match) => match[1]!)
  return { code, prints }
}

/** The strictest settings in common use, for a project that emits with tsc. */
const compilerOptions = {
  target: 'ES2022',
  lib: ['ES2023'],
  module: 'nodenext',
  moduleResolution: 'nodenext',
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noFallthroughCasesInSwitch: true,
  noPropertyAccessFromIndexSignature: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  allowUnreachableCode: false,
  allowUnusedLabels: false,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  forceConsistentCasingInFileNames: true,
  skipLibCheck: true, // Node's own types are not the copies' to check
  // The files import `./x.ts`; tsc writes `./x.js` into what it emits.
  rewriteRelativeImportExtensions: true,
  typeRoots: [join(root, 'node_modules/@types')],
  types: ['node'],
  outDir: 'out',
  rootDir: 'src',
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
let work: string
let compiled: { ok: boolean; output: string }

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'copyable-'))
  const copy = (folder: string, names: Iterable<string>, rename = (t: string) => t) => {
    mkdirSync(join(work, 'src', folder), { recursive: true })
    for (const name of names) {
      const text = readFileSync(join(source, name), 'utf8')
      writeFileSync(join(work, 'src', folder, name), rename(text))
    }
  }
  for (const file of files) {
    const folder = file.replace(/\.ts$/, '')
    copy(folder, withSiblings(file))
    writeFileSync(join(work, 'src', folder, 'example.ts'), `${headerExample(file).code}\n`)
    // The same copy with `.js` specifiers, as the module headers advise.
    if (withSiblings(file).size > 1) {
      const js = (text: string) => text.replace(/from '(\.\/[\w-]+)\.ts'/g, "from '$1.js'")
      copy(`${folder}-js`, withSiblings(file), js)
      writeFileSync(join(work, 'src', `${folder}-js`, 'example.ts'), `${js(headerExample(file).code)}\n`)
    }
  }
  writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }))
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', work], { timeout: 60_000 })
    compiled = { ok: true, output: stdout }
  } catch (error) {
    compiled = { ok: false, output: String((error as { stdout?: string }).stdout ?? error) }
  }
}, 60_000)

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe('each src/concurrency file, copied alone with the siblings it imports', () => {
  it('names its siblings: only the files that import nothing stand alone', () => {
    const alone = files.filter((file) => withSiblings(file).size === 1)
    expect(alone).toEqual(['abort.ts', 'channel.ts', 'task.ts'])
    expect([...withSiblings('select.ts')].sort()).toEqual(['channel.ts', 'select.ts'])
  })

  it('compiles with tsc under strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, verbatimModuleSyntax and isolatedModules', () => {
    expect(compiled.output).toBe('')
    expect(compiled.ok).toBe(true)
  })

  it.each(files)('runs the usage example in the header of %s, with plain Node, and prints what it says', async (file) => {
    const { code, prints } = headerExample(file)
    expect(code).toContain(`from './${file}'`)
    expect(prints.length).toBeGreaterThan(0)
    const folders = [file.replace(/\.ts$/, '')]
    if (withSiblings(file).size > 1) folders.push(`${folders[0]}-js`)
    for (const folder of folders) {
      const { stdout } = await run(process.execPath, [join(work, 'out', folder, 'example.js')], {
        timeout: 10_000,
      })
      expect(stdout.trimEnd().split('\n'), folder).toEqual(prints)
    }
  })
})
