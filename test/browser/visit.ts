// One visit of one page: everything the browser tests assert about it,
// gathered in a single load (at 1440 px, then resized to 375 px) so that
// the suite stays fast. The functions passed to `page.evaluate` run in the
// page.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { BrowserContext, Page } from 'playwright-core'
import { desktop, phone } from './harness.ts'

/** WCAG 2.0, 2.1 and 2.2, levels A and AA. */
export const wcagTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']
/** WCAG AA for normal text (every code token here is normal text). */
export const minContrast = 4.5

export interface Overflow {
  /** The block: the source it was imported from, its label, or its first line. */
  what: string
  /** How much wider its content is than the block, in CSS pixels. */
  by: number
}

export interface CodeColour {
  mode: 'light' | 'dark'
  fg: string
  bg: string
  ratio: number
  sample: string
}

export interface ClaimBox {
  id: string
  badge: string
  className: string
  summary: string
  open: boolean
  files: string[]
  rows: number
}

export interface Visit {
  path: string
  status: number | null
  consoleErrors: string[]
  failedRequests: string[]
  /** Every link on the page, resolved. */
  links: string[]
  ids: string[]
  /** At 1440 px: code and output blocks whose content is wider than they are. */
  overflowing: Overflow[]
  axe: Array<{ id: string; nodes: string[] }>
  /** Every distinct token colour on its code background, in both modes. */
  codeColours: CodeColour[]
  claims: ClaimBox[]
  twoslash: { blocks: number; withHovers: number; hovers: number }
  /** The first hover's token and the popup it opened ('' if none opened). */
  hover: { token: string; popup: string } | null
  /** At 375 px: how far the page scrolls sideways, in CSS pixels. */
  phoneOverflow: number
  /** At 375 px: tables in the page's content. */
  phoneTables: number
  /** At 375 px: text in a chart smaller than 11 px, or sticking out of it. */
  phoneChartProblems: string[]
  ms: number
  /** Where the visit's time went, in ms. */
  steps: Record<string, number>
}

export async function visit(
  context: BrowserContext,
  base: string,
  path: string,
  options: {
    screenshot?: (width: number) => string
    /** Hover a token and read its popup. */
    hover?: boolean
  } = {},
): Promise<Visit> {
  const started = performance.now()
  const page = await context.newPage()
  const consoleErrors: string[] = []
  const failedRequests: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text())
  })
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`))
  page.on('requestfailed', (r) => failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`))
  page.on('response', (r) => {
    if (r.status() >= 400) failedRequests.push(`${r.url()}: HTTP ${r.status()}`)
  })
  const steps: Record<string, number> = {}
  let last = started
  const step = (name: string) => {
    const now = performance.now()
    steps[name] = Math.round(now - last)
    last = now
  }
  try {
    await page.setViewportSize(desktop)
    const response = await page.goto(base + path, { waitUntil: 'load', timeout: 60_000 })
    // Hydrated: Vue has made the twoslash tokens interactive (or there are none).
    await page.waitForLoadState('networkidle', { timeout: 30_000 })
    step('load')
    const facts = await page.evaluate(readPage)
    step('read')
    const axe = await runAxe(page)
    step('axe')
    const codeColours = await readCodeColours(page)
    step('colours')
    const hover =
      options.hover && facts.twoslash.hovers > 0 ? await hoverFirst(page) : null
    step('hover')
    if (options.screenshot) {
      await screenshot(page, options.screenshot(desktop.width))
      step('screenshot')
    }

    await page.setViewportSize(phone)
    await page.evaluate(
      () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
    )
    const onPhone = await page.evaluate(readPhone)
    step('phone')
    if (options.screenshot) {
      await screenshot(page, options.screenshot(phone.width))
      step('screenshot')
    }
    return {
      path,
      status: response?.status() ?? null,
      consoleErrors,
      failedRequests,
      ...facts,
      axe,
      codeColours,
      hover,
      ...onPhone,
      ms: Math.round(performance.now() - started),
      steps,
    }
  } finally {
    await page.close()
  }
}

/** What `axe.run` resolves with, as far as the visit reads it. */
interface AxeRun {
  run(
    context: Document,
    options: object,
  ): Promise<{
    violations: Array<{
      id: string
      nodes: Array<{ target: string[]; failureSummary?: string }>
    }>
  }>
}

/**
 * axe-core's own script, put into the page once and run there: a third of
 * the time `@axe-core/playwright` takes for the same rules (measured on a
 * chapter: 1.3 s against 3 to 4 s), which injects it into every frame and
 * asks for every kind of result.
 */
const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
)

async function runAxe(page: Page): Promise<Visit['axe']> {
  await page.evaluate(axeSource)
  // Code tokens are checked by readCodeColours: the same rule with axe's
  // own maths, once per distinct colour and in both modes. axe would check
  // every token, in one mode, and walks every node of the page even when
  // told to exclude some: the tokens are set aside while it runs (a
  // chapter's axe run took a third less time without them) and put back.
  await page.evaluate(() => {
    const held: Array<[Element, DocumentFragment]> = []
    for (const code of Array.from(document.querySelectorAll('.vp-doc div[class*="language-"] pre > code'))) {
      const tokens = document.createDocumentFragment()
      while (code.firstChild) tokens.append(code.firstChild)
      held.push([code, tokens])
    }
    ;(window as unknown as { __bookHeld: typeof held }).__bookHeld = held
  })
  try {
    return await page.evaluate(async (tags) => {
      const axe = (window as unknown as { axe: AxeRun }).axe
      const results = await axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      })
      return results.violations.map((v) => ({
        id: v.id,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`),
      }))
    }, wcagTags)
  } finally {
    await page.evaluate(() => {
      const w = window as unknown as { __bookHeld?: Array<[Element, DocumentFragment]> }
      for (const [code, tokens] of w.__bookHeld ?? []) code.append(tokens)
      delete w.__bookHeld
    })
  }
}

/** The page from its top, at most 4,000 px of it: enough to look at, cheap to encode. */
async function screenshot(page: Page, file: string): Promise<void> {
  const { width } = page.viewportSize() ?? desktop
  const height = await page.evaluate(() => document.documentElement.scrollHeight)
  await page.screenshot({ path: file, fullPage: true, clip: { x: 0, y: 0, width, height: Math.min(height, 4000) } })
}

/** Every token colour against its block's background, light and dark, with axe's own maths. */
async function readCodeColours(page: Page): Promise<CodeColour[]> {
  return page.evaluate(() => {
    interface AxeColor {
      parseString(s: string): AxeColor
    }
    const color = (window as unknown as {
      axe: { commons: { color: { Color: new () => AxeColor; getContrast(bg: AxeColor, fg: AxeColor): number } } }
    }).axe.commons.color
    const parse = (s: string) => new color.Color().parseString(s)
    const out: CodeColour[] = []
    const root = document.documentElement
    const wasDark = root.classList.contains('dark')
    // The theme fades colours when the mode changes: read the end state.
    const still = document.createElement('style')
    still.textContent = '*, *::before, *::after { transition: none !important; }'
    document.head.append(still)
    for (const mode of ['light', 'dark'] as const) {
      root.classList.toggle('dark', mode === 'dark')
      const seen = new Map<string, CodeColour>()
      const tokens = document.querySelectorAll<HTMLElement>('.vp-doc div[class*="language-"] pre code span')
      for (const span of Array.from(tokens)) {
        if (span.children.length > 0 || (span.textContent ?? '').trim() === '') continue
        const block = span.closest<HTMLElement>('div[class*="language-"]')!
        const fg = getComputedStyle(span).color
        const bg = getComputedStyle(block).backgroundColor
        const key = `${fg}|${bg}`
        if (seen.has(key)) continue
        const ratio = color.getContrast(parse(bg), parse(fg))
        seen.set(key, { mode, fg, bg, ratio: Math.round(ratio * 100) / 100, sample: span.textContent!.slice(0, 40) })
      }
      out.push(...seen.values())
    }
    root.classList.toggle('dark', wasDark)
    still.remove()
    return out
  })
}

/** Hovers the first twoslash token and reads the popup that opens. */
async function hoverFirst(page: Page): Promise<Visit['hover']> {
  const token = page.locator('.vp-doc .twoslash-hover').first()
  await token.scrollIntoViewIfNeeded()
  await token.hover()
  const popup = page.locator('.v-popper__popper--shown .twoslash-popup-code').first()
  try {
    await popup.waitFor({ state: 'visible', timeout: 5_000 })
  } catch {
    return { token: await token.innerText(), popup: '' }
  }
  const result = { token: await token.innerText(), popup: await popup.innerText() }
  await page.mouse.move(0, 0)
  return result
}

function readPage(): Pick<Visit, 'links' | 'ids' | 'overflowing' | 'claims' | 'twoslash'> {
  const links = new Set<string>()
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('a[href]'))) {
    links.add(a.href)
  }
  const ids = Array.from(document.querySelectorAll('[id]')).map((e) => e.id)
  const overflowing: Overflow[] = []
  const blocks = Array.from(document.querySelectorAll<HTMLElement>('.vp-doc div[class*="language-"]'))
  for (const block of blocks) {
    const pre = block.querySelector('pre')
    if (!pre) continue
    const by = pre.scrollWidth - pre.clientWidth
    if (by <= 1) continue
    const fence = block.closest('.book-fence')
    const source = fence?.getAttribute('data-source')
    const label = fence?.querySelector('.book-fence-label')?.textContent
    const first = (pre.textContent ?? '').split('\n')[0]!.slice(0, 60)
    overflowing.push({ what: source ?? label ?? first, by })
  }
  const claims = Array.from(document.querySelectorAll<HTMLElement>('.vp-doc .claim')).map((box) => {
    const details = box.querySelector('details.claim-proof')
    return {
      id: box.id.replace(/^claim-/, ''),
      badge: box.querySelector('.claim-badge')?.textContent ?? '',
      className: box.className,
      summary: details?.querySelector('summary')?.textContent ?? '',
      open: details?.hasAttribute('open') ?? false,
      files: Array.from(box.querySelectorAll('.claim-proof-files > li > code')).map((c) => c.textContent ?? ''),
      rows: box.querySelectorAll('.claim-proof-files li li').length,
    }
  })
  const twoslashBlocks = blocks.filter((b) => b.querySelector('pre.twoslash'))
  const twoslash = {
    blocks: twoslashBlocks.length,
    withHovers: twoslashBlocks.filter((b) => b.querySelector('.twoslash-hover')).length,
    hovers: document.querySelectorAll('.vp-doc .twoslash-hover').length,
  }
  return { links: [...links], ids, overflowing, claims, twoslash }
}

function readPhone(): Pick<Visit, 'phoneOverflow' | 'phoneTables' | 'phoneChartProblems'> {
  const html = document.documentElement
  const problems: string[] = []
  for (const chart of Array.from(document.querySelectorAll<HTMLElement>('.perf-bars figure, .book-picture'))) {
    const box = chart.getBoundingClientRect()
    const walker = document.createTreeWalker(chart, NodeFilter.SHOW_TEXT)
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = (node.textContent ?? '').trim()
      const el = node.parentElement
      if (text === '' || !el || el.closest('details:not([open]) > :not(summary)')) continue
      if (el.getClientRects().length === 0) continue
      const size = parseFloat(getComputedStyle(el).fontSize)
      const rect = el.getBoundingClientRect()
      // An SVG is drawn scaled: its text's size on screen is its box's height.
      const shown = el instanceof SVGElement ? rect.height : size
      if (shown < 11) problems.push(`"${text.slice(0, 30)}" is ${shown.toFixed(1)} px`)
      if (rect.right > box.right + 1 || rect.left < box.left - 1) {
        problems.push(`"${text.slice(0, 30)}" sticks out of its chart`)
      }
    }
  }
  return {
    phoneOverflow: html.scrollWidth - html.clientWidth,
    phoneTables: document.querySelectorAll('.vp-doc table').length,
    phoneChartProblems: problems,
  }
}
