/**
 * `npm run build`: compiles `src/` to `dist/` with tsc
 * (`tsconfig.build.json`, which rewrites `./x.ts` imports to `./x.js`),
 * then copies beside the output every file tsc does not emit (`.mjs`,
 * `.sql`...), so that `node dist/main.js` runs with no TypeScript tools.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = path.join(root, 'src')

/** Source files tsc compiles (or, for declarations, needs no copy of). */
const COMPILED = /\.[cm]?ts$/

/** Builds the service into `outDir` (default `dist/`), from scratch. */
export function build(outDir = path.join(root, 'dist')): void {
  rmSync(outDir, { recursive: true, force: true })
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const project = path.join(root, 'tsconfig.build.json')
  execFileSync(process.execPath, [tsc, '-p', project, '--outDir', outDir], {
    stdio: 'inherit',
  })
  cpSync(src, outDir, {
    recursive: true,
    filter: (file) =>
      file !== path.join(src, 'examples') &&
      (statSync(file).isDirectory() || !COMPILED.test(file)),
  })
}

const entry = process.argv[1]
if (entry !== undefined && pathToFileURL(entry).href === import.meta.url) {
  build()
}
