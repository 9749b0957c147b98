/**
 * Runs the benchmarks and writes their results. Started by `bench/run.ts`
 * on the compiled code; arguments:
 *   --out <file>     where to write the results (default: only print)
 *   --only <ids>     comma-separated benchmark ids (default: all)
 *   --rounds <n>     measured rounds per benchmark (default 5)
 *   --tiny           tiny sizes, one round, no warm-up: a smoke run
 */
import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { benchmarks } from './benchmarks/index.ts'
import { closePostgres } from './lib/postgres.ts'
import { formatTable, runBenchmarks } from './lib/runner.ts'

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    only: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    tiny: { type: 'boolean', default: false },
  },
})

const only = values.only?.split(',')
const chosen = benchmarks.filter((b) => only === undefined || only.includes(b.id))
if (chosen.length === 0) throw new Error(`no benchmark named ${values.only}`)

const run = await runBenchmarks(chosen, {
  tiny: values.tiny,
  rounds: values.tiny ? 1 : Number(values.rounds),
  log: (line) => console.error(line),
}).finally(closePostgres)
console.log(formatTable(run))
if (values.out !== undefined) {
  await writeFile(values.out, `${JSON.stringify(run, null, 2)}\n`)
  console.log(`wrote ${values.out}`)
}
