// Reads the book's markdown for the three things the project checks:
// snippet imports (`<<<`), claims (`::: claim id`) and fences.
// The site's markdown plugins and the tests in test/docs both use it, so the
// build and the checks can never disagree about what a chapter says.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
)
export const docsDir = path.join(root, 'docs')

/** A claim id: kebab-case, at least two words. */
export const claimIdPattern = /^[a-z0-9]+(?:-[a-z0-9]+)+$/
/** A test title that proves a claim starts with its id and a colon. */
export const claimTitlePattern = /^([a-z0-9]+(?:-[a-z0-9]+)+):/

export interface Chapter {
  /** Path relative to docs/, with forward slashes: `guide/tasks.md`. */
  page: string
  file: string
  text: string
}

export function listChapters(dir = docsDir): Chapter[] {
  const pages: Chapter[] = []
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith('.md')) {
        const page = path.relative(dir, full).split(path.sep).join('/')
        pages.push({ page, file: full, text: readFileSync(full, 'utf8') })
      }
    }
  }
  walk(dir)
  return pages.sort((a, b) => a.page.localeCompare(b.page))
}

export interface Fence {
  /** 1-based line of the opening fence. */
  line: number
  lang: string
  /** Words after the language: `output=name`, `unordered`, `twoslash`... */
  meta: string[]
  content: string[]
}

const fenceOpen = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/

/** Walks a page line by line, reporting fences and the lines outside them. */
function walkPage(
  text: string,
  onFence: (fence: Fence) => void,
  onLine: (line: string, lineNo: number) => void,
): void {
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = fenceOpen.exec(lines[i] ?? '')
    if (!open) {
      onLine(lines[i] ?? '', i + 1)
      continue
    }
    const marker = open[1] ?? '```'
    const content: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const l = lines[j] ?? ''
      const trimmed = l.trim()
      if (trimmed.startsWith(marker) && /^[`~]+$/.test(trimmed)) break
      content.push(l)
    }
    const meta = (open[3] ?? '').split(/\s+/).filter(Boolean)
    onFence({ line: i + 1, lang: open[2] ?? '', meta, content })
    i = j
  }
}

export function scanFences(text: string): Fence[] {
  const fences: Fence[] = []
  walkPage(text, (f) => fences.push(f), () => {})
  return fences
}

export interface ClaimRef {
  id: string
  line: number
  /** The claim's sentence(s), as written. */
  text: string
}

const claimOpen = /^:::\s*claim\b\s*(.*)$/

export function scanClaims(text: string): ClaimRef[] {
  const claims: ClaimRef[] = []
  let open: ClaimRef | undefined
  walkPage(
    text,
    () => {},
    (line, lineNo) => {
      const start = claimOpen.exec(line.trim())
      if (start) {
        open = { id: (start[1] ?? '').trim(), line: lineNo, text: '' }
        claims.push(open)
      } else if (open && line.trim() === ':::') {
        open = undefined
      } else if (open) {
        open.text = `${open.text} ${line.trim()}`.trim()
      }
    },
  )
  return claims
}

export interface SnippetRef {
  line: number
  /** What the chapter wrote after `<<<`. */
  source: string
  file: string
  region: string | undefined
  lang: string
  twoslash: boolean
}

// <<< @/../src/file.ts#region{ts twoslash}  (also [title] and {1,2} forms)
const snippetLine = /^<<<\s+(\S+?)(?:\{([^}]*)\})?(?:\s+\[[^\]]*\])?\s*$/

export function parseSnippet(
  line: string,
  lineNo: number,
  pageFile: string,
): SnippetRef | undefined {
  const m = snippetLine.exec(line.trim())
  if (!m) return undefined
  const source = m[1] ?? ''
  const [rawPath = '', region] = source.split('#')
  const resolved = rawPath.startsWith('@/')
    ? path.join(docsDir, rawPath.slice(2))
    : path.resolve(path.dirname(pageFile), rawPath)
  const words = (m[2] ?? '').split(/\s+/).filter(Boolean)
  const lang = words.find((w) => !/^[\d,-]+$/.test(w) && w !== 'twoslash')
  return {
    line: lineNo,
    source,
    file: path.normalize(resolved),
    region: region === undefined || region === '' ? undefined : region,
    lang: lang ?? path.extname(rawPath).slice(1),
    twoslash: words.includes('twoslash'),
  }
}

export function scanSnippets(text: string, pageFile: string): SnippetRef[] {
  const refs: SnippetRef[] = []
  walkPage(
    text,
    () => {},
    (line, lineNo) => {
      const ref = parseSnippet(line, lineNo, pageFile)
      if (ref) refs.push(ref)
    },
  )
  return refs
}

const regionStart = (name: string) =>
  new RegExp(`^\\s*(?://|--)\\s*#region\\s+${escape(name)}\\s*$`)
const regionEnd = (name: string) =>
  new RegExp(`^\\s*(?://|--)\\s*#endregion\\s+${escape(name)}\\s*$`)
const anyRegionMarker = /^\s*(?:\/\/|--)\s*#(?:end)?region\b/

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export interface Region {
  /** Lines before the region, the region's own lines, lines after it. */
  before: string[]
  body: string[]
  after: string[]
  /** 1-based line, in the file, of the region's first shown line. */
  line: number
}

/** Splits a file around a named region; throws a message fit for a reader. */
export function readRegion(file: string, region: string): Region {
  const lines = readFileSync(file, 'utf8').split('\n')
  const start = lines.findIndex((l) => regionStart(region).test(l))
  if (start < 0) throw new Error(`region "${region}" not found`)
  const end = lines.findIndex((l, i) => i > start && regionEnd(region).test(l))
  if (end < 0) throw new Error(`region "${region}" has no #endregion`)
  const body = lines.slice(start + 1, end).filter((l) => !anyRegionMarker.test(l))
  if (body.every((l) => l.trim() === '')) {
    throw new Error(`region "${region}" is empty`)
  }
  return {
    before: lines.slice(0, start).filter((l) => !anyRegionMarker.test(l)),
    body: dedent(body),
    after: lines.slice(end + 1).filter((l) => !anyRegionMarker.test(l)),
    line: start + 2 + lines.slice(start + 1, end).findIndex((l) => !anyRegionMarker.test(l)),
  }
}

function dedent(lines: string[]): string[] {
  const indents = lines
    .filter((l) => l.trim() !== '')
    .map((l) => /^ */.exec(l)?.[0].length ?? 0)
  const cut = Math.min(...indents)
  return lines.map((l) => l.slice(cut))
}

/** Checks one snippet reference; returns a problem or undefined. */
export function checkSnippet(ref: SnippetRef): string | undefined {
  if (!existsSync(ref.file)) return `file not found`
  if (ref.region === undefined) return undefined
  try {
    readRegion(ref.file, ref.region)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/** "docs/guide/x.md:12: <<< @/../src/a.ts#r: region "r" not found" */
export function describeSnippetProblem(
  page: string,
  ref: SnippetRef,
  problem: string,
): string {
  const file = path.relative(root, ref.file)
  const region = ref.region === undefined ? '' : `, region "${ref.region}"`
  return `docs/${page}:${ref.line}: <<< ${ref.source} (file ${file}${region}): ${problem}`
}
