/**
 * Issue 12's store-side attacks, run against the compiled service
 * (`npm run build` first, or pass `--main path/to/main.js`), each in a
 * fresh process, with the figures printed as one JSON line per attack:
 *
 * - big-posts: 4,000 `POST /jobs` with a 60 KiB payload (just under the
 *   payload cap) on the memory store; peak RSS and the answers;
 * - list-big: 600 jobs of 60 KiB, then 20 callers paging `GET /jobs`
 *   while `/health` is probed; page sizes, answers, `/health` latency;
 * - cpu-flood: 111 `hash` jobs of 1e6 rounds, then `sleep` jobs posted
 *   behind them; how long a `sleep` job takes to complete.
 *
 * The service runs from `any-payload-main.ts` (the real entry plus a job
 * type, `store`, that takes any payload, as an application's own types
 * do), under tsx.
 *
 *   npx tsx bench/attacks/store-attacks.ts [--only name]
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'

const args = process.argv.slice(2)
const option = (name: string) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const entry = path.resolve(import.meta.dirname, 'any-payload-main.ts')
const only = option('--only')

interface Service {
  url: string
  pid: number
  events: { event: string; [k: string]: unknown }[]
  stop(): Promise<void>
}

/** The real entry, for attacks that need only the real job types. */
const realMain = path.resolve(import.meta.dirname, '../../src/main.ts')

async function start(env: Record<string, string>, file = entry): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const events: Service['events'] = []
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return
      const event = JSON.parse(line) as Service['events'][number]
      events.push(event)
      if (event.event === 'listening') resolve(String(event['url']))
    })
    child.once('exit', (code) => reject(new Error(`exited ${code}`)))
  })
  return {
    url,
    pid: child.pid!,
    events,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGKILL')
      }),
  }
}

/** Peak resident memory of `pid` so far, in MiB (Linux's VmHWM). */
function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) / 1024)
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })

async function parallel(n: number, times: number, work: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < times) await work(next++)
    }),
  )
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0)
}

/** Probes `/health` every `everyMs` until `stop` resolves; latencies. */
async function probe(url: string, stop: Promise<void>, everyMs = 100): Promise<number[]> {
  const latencies: number[] = []
  let done = false
  void stop.then(() => (done = true))
  while (!done) {
    const t0 = performance.now()
    await fetch(`${url}/health`).then((r) => r.text(), () => '')
    latencies.push(performance.now() - t0)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return latencies
}

const payload = 'x'.repeat(60 * 1024)

const attacks: Record<string, () => Promise<unknown>> = {
  async 'big-posts'() {
    const service = await start({ STORE: 'memory', JOB_QUEUE_CAPACITY: '100000', WORKER_COUNT: '1' })
    const answers: Record<number, number> = {}
    // Jobs that never finish: the store keeps them all, as waiting jobs.
    await parallel(20, 4_000, async () => {
      const res = await post(service.url, { type: 'store', payload })
      await res.text()
      answers[res.status] = (answers[res.status] ?? 0) + 1
    }).catch(() => {})
    const rss = peakRss(service.pid)
    await service.stop()
    return { attack: 'big-posts', answers, peak_rss_mib: rss }
  },
  async 'list-big'() {
    const service = await start({ STORE: 'memory', WORKER_COUNT: '1' })
    await parallel(10, 600, async () => {
      await (await post(service.url, { type: 'store', payload })).text()
    })
    const statuses: Record<number, number> = {}
    let biggest = 0
    let listing = () => {}
    const over = new Promise<void>((resolve) => (listing = resolve))
    const health = probe(service.url, over)
    await parallel(20, 200, async () => {
      const res = await fetch(`${service.url}/jobs`)
      const body = await res.arrayBuffer()
      biggest = Math.max(biggest, body.byteLength)
      statuses[res.status] = (statuses[res.status] ?? 0) + 1
    })
    listing()
    const latencies = await health
    const rss = peakRss(service.pid)
    await service.stop()
    return {
      attack: 'list-big',
      statuses,
      biggest_answer_kib: Math.round(biggest / 1024),
      health_p50_ms: percentile(latencies, 0.5),
      health_p99_ms: percentile(latencies, 0.99),
      peak_rss_mib: rss,
    }
  },
  async 'cpu-flood'() {
    const service = await start({ STORE: 'memory' }, realMain)
    const hashAnswers: Record<number, number> = {}
    for (let i = 0; i < 111; i++) {
      const res = await post(service.url, { type: 'hash', payload: { rounds: 1_000_000 } })
      await res.text()
      hashAnswers[res.status] = (hashAnswers[res.status] ?? 0) + 1
    }
    const waits: number[] = []
    const answers: Record<number, number> = {}
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now()
      const res = await post(service.url, { type: 'sleep', payload: { ms: 10 } })
      answers[res.status] = (answers[res.status] ?? 0) + 1
      const { id } = (await res.json()) as { id: string }
      while (!service.events.some((e) => e.event === 'job_completed' && e['job_id'] === id)) {
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      waits.push(performance.now() - t0)
    }
    const hashRunning = service.events.filter((e) => e.event === 'job_started' && e['type'] === 'hash').length
    await service.stop()
    return {
      attack: 'cpu-flood',
      hash_answers: hashAnswers,
      sleep_answers: answers,
      sleep_done_p50_ms: percentile(waits, 0.5),
      sleep_done_max_ms: percentile(waits, 1),
      hash_jobs_started: hashRunning,
    }
  },
}

for (const [name, attack] of Object.entries(attacks)) {
  if (only !== undefined && only !== name) continue
  console.log(JSON.stringify(await attack()))
}
