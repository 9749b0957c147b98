/**
 * In-process job throughput: jobs submitted the way `POST /jobs` submits
 * them (into the memory store: insert is enqueue), claimed by the fetcher
 * for idle workers and run by the worker pool with a handler that does
 * nothing, until every one is `completed`; against fastq running the same
 * no-op handler with the same concurrency and no bookkeeping at all.
 */
import fastq from 'fastq'
import { Channel } from '../../src/concurrency/channel.ts'
import { spawn } from '../../src/concurrency/task.ts'
import { JobEvents } from '../../src/jobs/events.ts'
import { createWake, runFetcher, wakeUp } from '../../src/jobs/fetcher.ts'
import { HandlerRegistry } from '../../src/jobs/handlers.ts'
import { WorkerPool } from '../../src/jobs/pool.ts'
import { RunningJobs, type HeldAttempt } from '../../src/jobs/running.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'
import { submitJob } from '../../src/jobs/submit.ts'
import type { Benchmark } from '../lib/benchmark.ts'
import { interleave, measured, rate, ratio } from '../lib/measure.ts'
import type { Figure } from '../lib/types.ts'

const noop = async (): Promise<void> => {}

/**
 * Submits `n` no-op jobs and waits until the pool of `workers` has
 * completed all of them; then stops the pool. Returns how many completed.
 */
export async function poolRun(n: number, workers: number): Promise<number> {
  const store = new MemoryStore()
  const queue = new Channel<HeldAttempt>(0)
  const running = new RunningJobs()
  const wake = createWake()
  const handlers = new HandlerRegistry().register('noop', { run: noop })
  let completed = 0
  let resolve = () => {}
  const allDone = new Promise<void>((done) => (resolve = done))
  const events = new JobEvents()
  events.on('job_completed', () => {
    if (++completed === n) resolve()
  })
  const onIdle = () => wakeUp(wake)
  const pool = new WorkerPool({ size: workers, store, queue, handlers, running, events, onIdle })
  const fetcher = spawn('fetcher', (signal) =>
    runFetcher({
      owner: 'bench',
      store,
      queue,
      running,
      idleWorkers: () => pool.idle,
      leaseMs: 60_000,
      pollMs: 1_000,
      wake,
      signal,
    }),
  )
  const deps = { store, handlers, wake: onIdle }
  for (let i = 0; i < n; i++) await submitJob(deps, { type: 'noop' })
  await allDone
  fetcher.abort()
  await fetcher
  queue.close()
  await pool.wait()
  return completed
}

/** The same `n` no-op calls through fastq with `concurrency`. */
export async function fastqRun(n: number, concurrency: number): Promise<number> {
  let completed = 0
  const queue = fastq.promise(async (input: { type: string }) => {
    await noop()
    completed++
    return input
  }, concurrency)
  for (let i = 0; i < n; i++) void queue.push({ type: 'noop' })
  await queue.drained()
  return completed
}

const WORKERS = [1, 10, 100] as const

export const jobThroughput: Benchmark = {
  id: 'job-throughput',
  title: 'In-process jobs: store → fetcher → channel → workers → completed',
  against:
    'fastq running the same no-op handler with the same concurrency ' +
    '(queueing with no bookkeeping)',
  goal: '≥ 0.2× fastq, at 1, 10 and 100 workers',
  async run(context) {
    const n = context.tiny ? 200 : 20_000
    const variants: Record<string, () => Promise<number>> = {}
    for (const w of WORKERS) {
      variants[`pool${w}`] = () => rate(n, () => poolRun(n, w))
      variants[`fastq${w}`] = () => rate(n, () => fastqRun(n, w))
    }
    const values = await interleave(context, variants)
    const unit = 'jobs/s'
    const figures: Figure[] = []
    const ratios: Figure[] = []
    for (const w of WORKERS) {
      const pool = measured(`pool${w}`, `pool, ${w} workers`, unit, values[`pool${w}`] ?? [])
      const peer = measured(`fastq${w}`, `fastq, concurrency ${w}`, unit, values[`fastq${w}`] ?? [])
      figures.push(pool, peer)
      ratios.push(
        ratio(`pool${w}/fastq${w}`, `${w} workers ÷ fastq`, pool, peer, {
          op: '>=',
          value: 0.2,
        }),
      )
    }
    return {
      sides: [
        {
          name: 'the pool',
          does:
            'a `MemoryStore`, a fetcher that claims for idle workers and ' +
            'hands each job over a channel, and a `WorkerPool` of w ' +
            'workers sharing one `JobEvents` bus (with one listener, ' +
            'counting `job_completed`, and no log or metric listeners); ' +
            '`await submitJob(...)` for each job (insert is enqueue), and ' +
            'each worker runs the no-op handler and records `completed` ' +
            'with a fenced write; timed from the first submit to the last ' +
            '`job_completed` event',
        },
        {
          name: 'fastq',
          does:
            '`fastq.promise` with concurrency w, pushing the same job ' +
            'input n times without awaiting, the worker awaiting the same ' +
            'no-op handler; timed until `drained()`',
        },
      ],
      figures: [...figures, ...ratios],
      charts: [
        {
          title: 'jobs per second, relative to fastq',
          unit: '× fastq',
          keys: ratios.map((r) => r.key),
          line: { value: 0.2, label: 'goal 0.2×' },
        },
      ],
      setup: `${n.toLocaleString('en')} jobs per run, ${context.rounds} rounds`,
      notes: [],
    }
  },
}
