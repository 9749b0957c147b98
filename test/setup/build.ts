// vitest's globalSetup: builds the service once per run, as `npm run
// build` does, into `.results/dist`, for the tests that run the compiled
// service (`test/process/signals.test.ts`). A build newer than every
// source file is kept: a run that changed nothing does not pay for it.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { build } from '../../scripts/build.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const outDir = path.join(root, '.results', 'dist')
const stamp = path.join(outDir, '.built')

declare module 'vitest' {
  export interface ProvidedContext {
    /** The compiled service: `node <distDir>/main.js` runs it. */
    distDir: string
  }
}

/** The newest modification time of the build's inputs. */
function newestInput(): number {
  const inputs = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.ts']
  let newest = Math.max(...inputs.map((file) => statSync(path.join(root, file)).mtimeMs))
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(file)
      else newest = Math.max(newest, statSync(file).mtimeMs)
    }
  }
  walk(path.join(root, 'src'))
  return newest
}

export default function setup(project: TestProject): void {
  if (!existsSync(stamp) || statSync(stamp).mtimeMs < newestInput()) {
    build(outDir)
    writeFileSync(stamp, `${new Date().toISOString()}\n`)
  }
  project.provide('distDir', outDir)
}
