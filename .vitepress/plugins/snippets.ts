// `<<< @/../src/file.ts#region{ts twoslash}`: shows one region of a file in
// src/, with hover types computed from the whole file.
//
// VitePress alone hands twoslash the region's text only (so names defined
// elsewhere are errors) and silently shows the whole file when a region is
// missing. This rule runs before VitePress's own `snippet` rule, handles every
// `<<<` line, and:
// - fails the build, naming chapter, line, file and region, when the file or
//   region is missing or the region is empty;
// - for `twoslash`, gives twoslash the whole file with `---cut-before---` and
//   `---cut-after---` around the region, under a sibling file name so that
//   relative imports resolve and the real module stays visible;
// - names the shown file and line above the block (`src/x.ts:12`), a link
//   when a source URL is configured.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { MarkdownRenderer as MarkdownIt } from 'vitepress'
type StateBlock = Parameters<Parameters<MarkdownIt['block']['ruler']['before']>[2]>[0]
import {
  checkSnippet,
  describeSnippetProblem,
  parseSnippet,
  readRegion,
  root,
  type SnippetRef,
} from '../lib/book.ts'

interface Env {
  relativePath?: string
  path?: string
  includes?: string[]
}

export interface SnippetsOptions {
  /** Where `src/x.ts` can be read: `${sourceUrl}src/x.ts#L12`. */
  sourceUrl?: string | undefined
}

/** What a snippet's fence token carries for the renderer. */
interface Shown {
  /** Path from the project root, e.g. `src/jobs/job.ts`. */
  file: string
  region: string | undefined
  /** 1-based line of the first shown line in the file. */
  line: number
}

export function snippetsPlugin(md: MarkdownIt, options: SnippetsOptions = {}): void {
  const render = md.renderer.rules.fence!
  md.renderer.rules.fence = (tokens, idx, opts, env, self) => {
    const shown = (tokens[idx]!.meta as { shown?: Shown } | null)?.shown
    const html = render(tokens, idx, opts, env, self)
    if (shown === undefined) return html
    const where = `${shown.file}:${shown.line}`
    const name = options.sourceUrl
      ? `<a href="${esc(`${options.sourceUrl}${shown.file}#L${shown.line}`)}"><code>${esc(where)}</code></a>`
      : `<code>${esc(where)}</code>`
    const source = shown.region === undefined ? shown.file : `${shown.file}#${shown.region}`
    return (
      `<div class="book-fence book-source" data-source="${esc(source)}">` +
      `<div class="book-fence-label">${name}</div>${html}</div>`
    )
  }
  md.block.ruler.before('snippet', 'book_snippet', (state, startLine, _end, silent) => {
    const start = state.bMarks[startLine]! + state.tShift[startLine]!
    const line = state.src.slice(start, state.eMarks[startLine])
    if (!line.startsWith('<<<')) return false
    const env = state.env as Env
    const pageFile = env.path ?? path.join(root, 'docs', env.relativePath ?? '')
    const ref = parseSnippet(line, startLine + 1, pageFile)
    if (!ref) return false
    if (silent) return true

    const problem = checkSnippet(ref)
    if (problem !== undefined) {
      throw new Error(describeSnippetProblem(env.relativePath ?? '?', ref, problem))
    }
    ;(env.includes ??= []).push(ref.file)
    pushFence(state, startLine, ref)
    state.line = startLine + 1
    return true
  })
}

function pushFence(state: StateBlock, startLine: number, ref: SnippetRef): void {
  const token = state.push('fence', 'code', 0)
  token.markup = '```'
  token.map = [startLine, startLine + 1]
  token.info = ref.twoslash ? `${ref.lang} twoslash` : ref.lang
  token.content = ref.twoslash ? twoslashSource(ref) : plainSource(ref)
  const shown: Shown = {
    file: path.relative(root, ref.file).split(path.sep).join('/'),
    region: ref.region,
    line: ref.region === undefined ? 1 : readRegion(ref.file, ref.region).line,
  }
  token.meta = { shown }
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')
}

function plainSource(ref: SnippetRef): string {
  if (ref.region === undefined) return readFileSync(ref.file, 'utf8')
  return `${readRegion(ref.file, ref.region).body.join('\n').trimEnd()}\n`
}

function twoslashSource(ref: SnippetRef): string {
  const rel = path.relative(root, ref.file).split(path.sep).join('/')
  const ext = path.extname(rel)
  // A sibling name: same folder (imports resolve), not the same file (the
  // real module must stay visible to later blocks on the page).
  const virtual = `${rel.slice(0, -ext.length)}.__twoslash__${ext}`
  const lines = [`// @filename: ${virtual}`]
  if (ref.region === undefined) {
    lines.push(readFileSync(ref.file, 'utf8').trimEnd())
  } else {
    const { before, body, after } = readRegion(ref.file, ref.region)
    lines.push(...before, '// ---cut-before---', ...body, '// ---cut-after---', ...after)
  }
  return `${lines.join('\n')}\n`
}
