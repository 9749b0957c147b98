// What the browser tests stand on: the built site served on 127.0.0.1,
// Debian's Chromium driven by playwright-core, and the list of pages.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import sirv from 'sirv'
import { root } from '../../.vitepress/lib/book.ts'
import { existingParts } from '../../.vitepress/lib/chapters.ts'

export const distDir = path.join(root, '.vitepress', 'dist')
/** Screenshots for a person to look at; git-ignored, kept by CI. */
export const artifactsDir = path.join(root, 'artifacts', 'screenshots')

/** Every page of the sidebar, and the home page, as site paths. */
export function sitePages(): string[] {
  return ['/', ...existingParts().flatMap((p) => p.pages.map((page) => `/${page}`))]
}

export const desktop = { width: 1440, height: 900 }
export const phone = { width: 375, height: 812 }

export interface Site {
  url: string
  close(): Promise<void>
}

/** Serves the built site as a host would: clean URLs, 404.html for the rest. */
export async function serveSite(): Promise<Site> {
  if (!existsSync(path.join(distDir, 'index.html'))) {
    throw new Error(
      `no built site in ${path.relative(root, distDir)}: run \`npx vitepress build\` first ` +
        '(npm test builds it before the browser tests)',
    )
  }
  const files = sirv(distDir, { extensions: ['html'], dev: false, etag: true })
  const notFound = readFileSync(path.join(distDir, '404.html'))
  const server = http.createServer((req, res) => {
    files(req, res, () => {
      // A missing page or file is a 404, as on a real host (sirv would
      // answer 200 if asked to serve 404.html itself).
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' })
      res.end(notFound)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

/** Where Debian's chromium package puts the browser; CHROMIUM overrides it. */
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium'

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    // Never a silent skip: a run without a browser checked nothing.
    throw new Error(
      `no Chromium at ${chromiumPath}: the browser tests need one. ` +
        'Install Debian\'s package with `apt-get install -y chromium` (as root, ' +
        'about 80 s once; `.ci/run` does it when it is missing), or set ' +
        'CHROMIUM to a Chromium binary. `npx playwright install` cannot download here.',
    )
  }
  mkdirSync(artifactsDir, { recursive: true })
  // playwright gives every launch a fresh, temporary user-data dir.
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      // Without these Chromium floods the closed network with refused calls.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

/**
 * CPU seconds used by the processes below this one (the browser's), living
 * and reaped, read from /proc: what the step costs the machine, whatever
 * else the machine is doing. Linux only; 0 elsewhere.
 */
export function childrenCpuSeconds(): number {
  if (!existsSync('/proc/self/stat')) return 0
  const parent = new Map<number, number>()
  const ticks = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // After "pid (comm) ": state ppid ... utime(11) stime(12) cutime(13) cstime(14).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number)
      parent.set(Number(entry), f[1]!)
      ticks.set(Number(entry), f[11]! + f[12]! + f[13]! + f[14]!)
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0
  for (const [pid, t] of ticks) {
    let p = parent.get(pid) ?? 0
    while (p > 1 && p !== process.pid) p = parent.get(p) ?? 0
    if (p === process.pid) total += t
  }
  return total / 100 // USER_HZ is 100 on Linux
}
