// The built site, read in a real browser as a reader would: every page of
// the sidebar loads cleanly, links and anchors lead somewhere, code fits its
// column, phones do not scroll sideways, axe finds nothing against WCAG 2
// A/AA, and the book's machinery (hovers, claim boxes, search, the copy
// button, the claims count, the pictures) works. Runs after `vitepress
// build`; see vitest.browser.config.ts.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { AxeBuilder } from '@axe-core/playwright'
import PQueue from 'p-queue'
import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listChapters, readRegion, root } from '../../.vitepress/lib/book.ts'
import { pageTitle, parts } from '../../.vitepress/lib/chapters.ts'
import { claimStatus, loadResults } from '../../.vitepress/lib/results.ts'
import { jobPath } from '../../.vitepress/pictures/job-path.ts'
import { chapterTimeline } from '../../.vitepress/pictures/shutdown.ts'
import { TRANSITIONS } from '../../src/jobs/job.ts'
import { checkClaims } from '../docs/check-claims.ts'
import {
  artifactsDir,
  childrenCpuSeconds,
  desktop,
  launchBrowser,
  serveSite,
  sitePages,
  type Site,
} from './harness.ts'
import { minContrast, visit, wcagTags, type Visit } from './visit.ts'

/**
 * Pages whose code or output blocks are still wider than the column at
 * 1440 px, each with its reason. The lead removes an entry when the page is
 * rewritten; an entry for a page that no longer overflows fails the test, so
 * that the list only shrinks.
 */
const wideBlocksAllowed: Record<string, string> = {}

/**
 * The chapters whose first token is hovered: the first chapter of each
 * part (a hover takes one to five seconds; every chapter is checked for
 * hovers in its blocks).
 */
const hovered = new Set(
  parts.map((part) => `/${part.pages[0]}`).filter((p) => p.startsWith('/guide/')),
)

/** Three pages a person looks at after a run, at both widths (git-ignored). */
const screenshotted = ['/', '/guide/channels', '/reference/performance']

const pages = sitePages()
const chapters = pages.filter((p) => p.startsWith('/guide/'))
const visits = new Map<string, Visit>()
let site: Site
let browser: Browser
let context: BrowserContext
let started = 0

beforeAll(async () => {
  started = performance.now()
  site = await serveSite()
  browser = await launchBrowser()
  context = await browser.newContext({ viewport: desktop })
  // Two pages at a time: the machine has two cores.
  const queue = new PQueue({ concurrency: 2 })
  await Promise.all(
    pages.map((p) =>
      queue.add(async () => {
        const name = p === '/' ? 'home' : p.slice(1).replace(/\//g, '-')
        const shot = screenshotted.includes(p)
          ? (width: number) => path.join(artifactsDir, `${name}-${width}.png`)
          : undefined
        const options = { hover: hovered.has(p), ...(shot && { screenshot: shot }) }
        visits.set(p, await visit(context, site.url, p, options))
      }),
    ),
  )
})

afterAll(async () => {
  const browserCpu = childrenCpuSeconds()
  const { user, system } = process.cpuUsage()
  await browser?.close()
  await site?.close()
  const all = [...visits.values()]
  // Everything each visit saw, for a person reading a failure.
  writeFileSync(
    path.join(root, '.results', 'browser-visits.json'),
    JSON.stringify(all.map(({ links, ids, ...rest }) => ({ ...rest, links: links.length })), null, 1),
  )
  const hovers = all.reduce((n, v) => n + v.twoslash.hovers, 0)
  const links = all.reduce((n, v) => n + v.links.length, 0)
  console.log(
    `browser: ${all.length} pages, ${links} links, ${hovers} hover tokens, ` +
      `${all.reduce((n, v) => n + v.axe.length, 0)} axe violations, ` +
      `${all.reduce((n, v) => n + v.overflowing.length, 0)} overflowing blocks, ` +
      `${Math.round(performance.now() - started)} ms; CPU: browser ${browserCpu.toFixed(1)} s, ` +
      `tests ${((user + system) / 1e6).toFixed(1)} s`,
  )
})

const at = (p: string): Visit => {
  const v = visits.get(p)
  if (!v) throw new Error(`${p} was not visited`)
  return v
}

describe('every page of the sidebar', () => {
  it.each(pages)('%s answers 200 with no console error or failed request', (p) => {
    const v = at(p)
    expect({ status: v.status, errors: v.consoleErrors, failed: v.failedRequests }).toEqual({
      status: 200,
      errors: [],
      failed: [],
    })
  })

  it.each(pages)('%s passes axe (WCAG 2 A and AA)', (p) => {
    expect(at(p).axe).toEqual([])
  })

  it.each(pages)('%s shows every code token at 4.5:1 or more, light and dark', (p) => {
    const { codeColours, twoslash } = at(p)
    expect(codeColours.filter((c) => c.ratio < minContrast)).toEqual([])
    if (twoslash.blocks > 0) {
      // Still highlighted: the colours' stylesheet loaded (see colour-classes.ts).
      for (const mode of ['light', 'dark']) {
        expect(new Set(codeColours.filter((c) => c.mode === mode).map((c) => c.fg)).size).toBeGreaterThan(3)
      }
    }
  })

  it.each(pages)('%s has no code block wider than its column at 1440 px', (p) => {
    const over = at(p).overflowing
    if (wideBlocksAllowed[p] !== undefined) {
      expect(over.length, `${p} is on the exemption list but fits now: remove it`).toBeGreaterThan(0)
    } else {
      expect(over).toEqual([])
    }
  })

  it.each(pages)('%s does not scroll sideways at 375 px', (p) => {
    expect(at(p).phoneOverflow).toBeLessThanOrEqual(0)
  })
})

describe('dark mode', () => {
  // The book's own components, and one chapter for the theme around them.
  const own = ['/', '/guide/channels', '/reference/pictures', '/reference/claims', '/reference/performance']

  it.each(own)('%s passes axe in dark mode too', async (p) => {
    const dark = await browser.newContext({ viewport: desktop, colorScheme: 'dark' })
    try {
      const page = await dark.newPage()
      await page.goto(`${site.url}${p}`)
      await page.waitForLoadState('networkidle')
      expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true)
      const results = await new AxeBuilder({ page })
        .withTags(wcagTags)
        .exclude('.vp-doc div[class*="language-"] pre > code')
        .analyze()
      expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([])
    } finally {
      await dark.close()
    }
  })
})

describe('links', () => {
  it('every link to this site leads to a page that exists, and every anchor to an id on it', async () => {
    const origin = new URL(site.url).origin
    const idsOf = new Map<string, Set<string>>()
    for (const v of visits.values()) idsOf.set(v.path, new Set(v.ids))
    const dead: string[] = []
    let checked = 0
    for (const v of visits.values()) {
      for (const href of v.links) {
        const url = new URL(href)
        if (url.origin !== origin) continue
        checked++
        const target = url.pathname.replace(/\.html$/, '').replace(/\/index$/, '/')
        let ids = idsOf.get(target)
        if (!ids) {
          // A page outside the sidebar, or an asset: fetch it once.
          const response = await fetch(`${origin}${url.pathname}`)
          const body = await response.text()
          if (response.status !== 200) {
            dead.push(`${v.path} → ${url.pathname}: HTTP ${response.status}`)
            continue
          }
          ids = new Set([...body.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!))
          idsOf.set(target, ids)
        }
        const anchor = decodeURIComponent(url.hash.slice(1))
        if (anchor !== '' && !ids.has(anchor)) dead.push(`${v.path} → ${url.pathname}#${anchor}: no such id`)
      }
    }
    expect(checked).toBeGreaterThan(pages.length * 10)
    expect(dead).toEqual([])
  })
})

describe('the chapters', () => {
  const results = loadResults()

  it.each(chapters)('%s: every imported block carries hovers', (p) => {
    const v = at(p)
    expect(v.twoslash.withHovers).toBe(v.twoslash.blocks)
  })

  it.each(chapters.filter((p) => hovered.has(p)))(
    '%s: a hover shows the type of the token under the pointer',
    (p) => {
      const v = at(p)
      expect(v.twoslash.hovers).toBeGreaterThan(0)
      expect(v.hover?.popup).toContain(v.hover?.token)
    },
  )

  it.each(chapters)('%s: each claim box shows its status and its tests, by file', (p) => {
    const boxes = at(p).claims
    const expected = listChapters()
      .find((c) => `/${c.page.replace(/\.md$/, '')}` === p)!
      .text.split('\n')
      .filter((l) => /^:::\s*claim\b/.test(l.trim())).length
    expect(boxes).toHaveLength(expected)
    for (const box of boxes) {
      const tests = results?.byClaim.get(box.id) ?? []
      const status = claimStatus(tests)
      expect(box.className).toContain(`claim-${status.replace(' ', '-')}`)
      expect(box.badge).toContain(status)
      expect(box.files.sort()).toEqual([...new Set(tests.map((t) => t.file))].sort())
      expect(box.rows).toBeGreaterThan(0)
      // Collapsed while every test passed; open when one failed or did not run.
      expect(box.open).toBe(status !== 'verified')
    }
  })
})

describe('the book as a whole', () => {
  it('the home page\'s "N of N claims verified" is the claims check\'s count', async () => {
    const page = await context.newPage()
    try {
      await page.goto(`${site.url}/`)
      const shown = await page.locator('.claims-summary strong').innerText()
      const chaptersNow = listChapters()
      const total = chaptersNow.reduce(
        (n, c) => n + c.text.split('\n').filter((l) => /^:::\s*claim\b/.test(l.trim())).length,
        0,
      )
      const { verified } = checkClaims(chaptersNow, loadResults())
      expect(shown).toBe(`${verified} of ${total} claims verified`)
    } finally {
      await page.close()
    }
  })

  it('search finds a chapter by its title', async () => {
    const page = await context.newPage()
    try {
      await page.goto(`${site.url}/guide/tasks`)
      await page.locator('.VPNavBarSearch button').first().click()
      const title = pageTitle('guide/waiting')
      await page.locator('#localsearch-input').fill(title)
      const hit = page.locator('#localsearch-list a[href*="/guide/waiting"]').first()
      await hit.waitFor({ state: 'visible', timeout: 10_000 })
      expect(await hit.getAttribute('href')).toContain('/guide/waiting')
    } finally {
      await page.close()
    }
  })

  it('the copy button copies exactly the region the block shows', async () => {
    const copier = await browser.newContext({
      viewport: desktop,
      permissions: ['clipboard-read', 'clipboard-write'],
    })
    try {
      const page = await copier.newPage()
      await page.goto(`${site.url}/guide/channels`)
      await page.waitForLoadState('networkidle')
      const blocks = page.locator('.book-source[data-source*="#"]')
      expect(await blocks.count()).toBeGreaterThan(1)
      for (const i of [0, 1]) {
        const block = blocks.nth(i)
        const source = (await block.getAttribute('data-source'))!
        const [file, region] = source.split('#') as [string, string]
        await block.scrollIntoViewIfNeeded()
        await block.hover()
        await block.locator('button.copy').click()
        const copied = await page.evaluate(() => navigator.clipboard.readText())
        const shown = readRegion(path.join(root, file), region).body.join('\n').trimEnd()
        expect(copied.replace(/\n$/, '')).toBe(shown)
        expect((await block.locator('pre').innerText()).trimEnd()).toBe(shown)
      }
    } finally {
      await copier.close()
    }
  })

  it('an imported block names its file and the line it starts at', async () => {
    const v = at('/guide/channels')
    expect(v.status).toBe(200)
    const page = await context.newPage()
    try {
      await page.goto(`${site.url}/guide/channels`)
      const block = page.locator('.book-source[data-source*="#"]').first()
      const [file, region] = (await block.getAttribute('data-source'))!.split('#') as [string, string]
      const label = await block.locator('.book-fence-label').innerText()
      expect(label).toBe(`${file}:${readRegion(path.join(root, file), region).line}`)
    } finally {
      await page.close()
    }
  })
})

describe('phones', () => {
  it('the claims ledger is a list, not a table', () => {
    const v = at('/reference/claims')
    expect(v.phoneTables).toBe(0)
    expect(v.phoneOverflow).toBeLessThanOrEqual(0)
  })

  it('the Performance charts keep their text at 11 px or more, inside the chart', () => {
    expect(at('/reference/performance').phoneChartProblems).toEqual([])
  })

  it('the pictures keep their text at 11 px or more, inside the picture', () => {
    expect(at('/reference/pictures').phoneChartProblems).toEqual([])
    expect(at('/').phoneChartProblems).toEqual([])
  })
})

describe('the pictures', () => {
  const readPicture = async (pagePath: string, name: string) => {
    const page = await context.newPage()
    try {
      await page.goto(`${site.url}${pagePath}`)
      const figure = page.locator(`[data-picture="${name}"]`)
      return await figure.evaluate((f) => ({
        role: f.querySelector('svg')?.getAttribute('role') ?? null,
        label: f.querySelector('svg')?.getAttribute('aria-label') ?? '',
        width: f.querySelector('svg')?.getBoundingClientRect().width ?? 0,
        edges: Array.from(f.querySelectorAll('g.edge > title')).map((t) => t.textContent ?? ''),
        rows: Array.from(f.querySelectorAll('li .phase')).map((t) => t.textContent ?? ''),
        words: f.querySelector('.book-picture-text p')?.textContent ?? '',
      }))
    } finally {
      await page.close()
    }
  }

  it('the state machine on the page is the table in src/jobs/job.ts now', async () => {
    const shown = await readPicture('/reference/pictures', 'states')
    const table = Object.entries(TRANSITIONS).flatMap(([from, next]) => next.map((to) => `${from}->${to}`))
    expect(shown.role).toBe('img')
    expect(shown.width).toBeGreaterThan(100)
    expect(shown.edges.sort()).toEqual(table.sort())
    expect(shown.label).toBe(shown.words)
  })

  it('the job path on the home page and the pictures page is its data file', async () => {
    for (const p of ['/', '/reference/pictures']) {
      const shown = await readPicture(p, 'job-path')
      expect(shown.role).toBe('img')
      expect(shown.edges.sort()).toEqual(jobPath.edges.map(([a, b]) => `${a}->${b}`).sort())
      expect(shown.label.length).toBeGreaterThan(40)
    }
  })

  it('the shutdown timeline shows the phases of the chapter\'s run, in order', async () => {
    const shown = await readPicture('/reference/pictures', 'shutdown')
    expect(shown.rows).toEqual(chapterTimeline().phases.map((p) => p.name))
  })
})
