// Every benchmark, run once on tiny sizes in a child process exactly as
// `npm run bench` runs them (compiled, `--expose-gc`), so none can rot.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { benchmarks } from '../../bench/benchmarks/index.ts'
import { buildBench } from '../../bench/build.ts'
import type { BenchRun } from '../../bench/lib/types.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
let run: BenchRun

beforeAll(async () => {
  const built = await buildBench(root, 'workstream-bench-test')
  const folder = await mkdtemp(path.join(tmpdir(), 'bench-'))
  const out = path.join(folder, 'tiny.json')
  try {
    const child = spawn(
      process.execPath,
      ['--expose-gc', path.join(built, 'bench', 'main.js'), '--tiny', '--out', out],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const [code] = (await once(child, 'exit')) as [number | null]
    if (code !== 0) throw new Error(`tiny bench run failed (${code}): ${stderr}`)
    run = JSON.parse(await readFile(out, 'utf8')) as BenchRun
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}, 120_000)

describe('the tiny run of every benchmark', () => {
  it('covers every benchmark, in order, on tiny sizes', () => {
    expect(run.size).toBe('tiny')
    expect(run.benchmarks.map((b) => b.id)).toEqual(benchmarks.map((b) => b.id))
  })

  it.each(benchmarks.map((b) => b.id))(
    'gives %s finite figures, each median between its min and max',
    (id) => {
      const result = run.benchmarks.find((b) => b.id === id)
      expect(result?.status).not.toBe('not-measured')
      for (const figure of result?.figures ?? []) {
        expect(Number.isFinite(figure.median), figure.key).toBe(true)
        expect(figure.min).toBeLessThanOrEqual(figure.median)
        expect(figure.median).toBeLessThanOrEqual(figure.max)
      }
      expect(result?.figures.length).toBeGreaterThan(0)
    },
  )

  it('charts only figures that exist', () => {
    for (const result of run.benchmarks) {
      const keys = new Set(result.figures.map((f) => f.key))
      for (const chart of result.charts) {
        for (const key of chart.keys) expect(keys, `${result.id} ${key}`).toContain(key)
      }
    }
  })
})
