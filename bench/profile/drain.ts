/**
 * A profile of the drain row's service side: the service (compiled, as
 * `npm run bench` runs it) drains `n` no-op jobs from its own database on
 * an embedded server, with one of two instruments:
 *   --statements  every statement the service sent: calls, rows per call,
 *                 mean time from send to answer, and the share of the
 *                 drain during which one of that kind was on its way;
 *   --cpu         a CPU profile (`node --cpu-prof`), summed by function;
 *   --async-commit  with either, or alone: the service's database set to
 *                 `synchronous_commit = off`, to see what waiting for the
 *                 disk at each commit costs (not a setting the service
 *                 uses: see the Performance page).
 *
 *   npx tsx bench/profile/drain.ts --statements [n]   (n: 20,000)
 *   npx tsx bench/profile/drain.ts --cpu [n]
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { buildBench } from '../build.ts'
import { closePostgres, withPostgres } from '../lib/postgres.ts'
import { workstream } from '../lib/queues.ts'

const { values, positionals } = parseArgs({
  options: {
    statements: { type: 'boolean' },
    cpu: { type: 'boolean' },
    'async-commit': { type: 'boolean' },
  },
  allowPositionals: true,
})
const n = Number(positionals[0] ?? 20_000)
const root = fileURLToPath(new URL('../..', import.meta.url))
const built = await buildBench(root, 'workstream-profile')
const profiles = await mkdtemp(path.join(tmpdir(), 'drain-profile-'))
const flags = values.cpu
  ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`]
  : ['--import', path.join(built, 'bench', 'profile', 'pg-statements.mjs')]

await withPostgres(async (server) => {
  const url = await server.database('profile')
  await workstream.install(url)
  if (values['async-commit']) {
    const name = new URL(url).pathname.slice(1)
    await server.query(url, `ALTER DATABASE ${name} SET synchronous_commit = off`)
  }
  const child = spawn(
    process.execPath,
    [...flags, path.join(built, 'bench', 'children', 'peer-workstream.js')],
    {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url, WORKER_COUNT: '10' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const lines = createInterface({ input: child.stdout })
  await new Promise<void>((resolve) =>
    lines.on('line', (line) => line.includes('"listening"') && resolve()),
  )
  lines.close()
  child.stdout.resume()
  await workstream.insert(server, url, n)
  const began = performance.now()
  while ((await workstream.remaining(server, url)) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const ms = performance.now() - began
  child.kill('SIGTERM')
  await once(child, 'exit')
  console.log(`${n} jobs in ${(ms / 1000).toFixed(2)} s: ${Math.round(n / (ms / 1000))} jobs/s`)
  if (values.cpu) await printCpu()
  else printStatements(stderr, ms)
})
await closePostgres()
await rm(profiles, { recursive: true, force: true })

function printStatements(stderr: string, drainMs: number): void {
  const line = stderr.split('\n').find((l) => l.startsWith('{"statements"'))
  if (line === undefined) throw new Error(`no statement counts: ${stderr}`)
  type Counted = { calls: number; rows: number; ms: number }
  const { statements } = JSON.parse(line) as { statements: Record<string, Counted> }
  const rows = Object.entries(statements)
    .filter(([, s]) => s.calls >= 10)
    .sort((a, b) => b[1].ms - a[1].ms)
  for (const [name, s] of rows) {
    console.log(
      `${name.padEnd(14)} ${String(s.calls).padStart(6)} calls, ` +
        `${(s.rows / s.calls).toFixed(2)} rows each, ${(s.ms / s.calls).toFixed(2)} ms each, ` +
        `on its way ${Math.round((100 * s.ms) / drainMs)}% of the drain`,
    )
  }
}

async function printCpu(): Promise<void> {
  const [file] = await readdir(profiles)
  type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
  const profile = JSON.parse(await readFile(path.join(profiles, file!), 'utf8')) as {
    nodes: Node[]
    samples: number[]
    timeDeltas: number[]
  }
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const byFunction = new Map<string, number>()
  let total = 0
  for (const node of profile.nodes) {
    const time = self.get(node.id) ?? 0
    total += time
    const { functionName, url, lineNumber } = node.callFrame
    const where = url.replace(/.*node_modules\//, '').replace(/.*workstream-profile\//, '')
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + time)
  }
  for (const [key, time] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}`)
  }
}
