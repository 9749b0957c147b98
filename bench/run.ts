/**
 * `npm run bench`: compiles the code (see `build.ts` for why it is not
 * measured under tsx), then runs every benchmark in a fresh Node with
 * `--expose-gc` and writes `bench/results/latest.json`. Pass `--only
 * channel-handoff,select` to run some of them (then nothing is written
 * unless `--out` is given), and `--rounds n` to change the rounds.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildBench } from './build.ts'

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const args = process.argv.slice(2)
const partial = args.includes('--only')
const out = path.join(root, 'bench', 'results', 'latest.json')

const built = await buildBench(root)
const child = spawn(
  process.execPath,
  [
    '--expose-gc',
    path.join(built, 'bench', 'main.js'),
    ...(partial ? [] : ['--out', out]),
    ...args,
  ],
  { stdio: 'inherit', cwd: root },
)
const [code] = (await once(child, 'exit')) as [number | null]
process.exitCode = code ?? 1
