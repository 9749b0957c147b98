/**
 * `GET /health` latency while CPU-bound jobs keep the thread pool busy,
 * against the same service idle; and, reported, while the same work runs
 * on the event loop instead.
 */
import { availableParallelism } from 'node:os'
import { hashChain } from '../../src/jobs/cpu/hash-chain.mjs'
import type { Benchmark } from '../lib/benchmark.ts'
import { benchFile, runChild } from '../lib/child.ts'
import { interleave, measured, ratio, summarize } from '../lib/measure.ts'
import { postJob, startService } from '../lib/service.ts'

/** Hash rounds that take about `ms` on this machine's event loop. */
export function calibrateRounds(ms: number): number {
  const probe = 5_000
  hashChain(probe) // warm up
  const times = Array.from({ length: 5 }, () => {
    const start = performance.now()
    hashChain(probe)
    return performance.now() - start
  })
  return Math.max(1, Math.round((probe * ms) / summarize(times).median))
}

/** What one measurement of `GET /health` saw. */
interface HealthRun {
  readonly p99: number
  /** Jobs not completed when the probe ended: the CPU never ran dry. */
  readonly unfinished: number
}

/**
 * Starts a service; then, at the same moment, posts `jobs` jobs of `type`
 * (none when idle) and probes `GET /health` at a steady rate; reports its
 * p99 and how many jobs were still unfinished when the probe ended. Kills
 * the service after: what is left of the jobs is not waited for.
 */
export async function healthUnder(options: {
  type?: 'hash' | 'hash-blocking'
  jobs: number
  rounds: number
  durationMs: number
}): Promise<HealthRun> {
  const { type, jobs, durationMs } = options
  const service = await startService(
    { JOB_QUEUE_CAPACITY: String(Math.max(100, jobs)) },
    type === 'hash-blocking' ? benchFile('children/blocking-service') : undefined,
  )
  try {
    const input = { type, payload: { rounds: options.rounds } }
    // Not awaited one by one: a service whose loop is blocked by the
    // jobs themselves accepts them only between two jobs.
    const posting = Promise.all(
      Array.from({ length: type === undefined ? 0 : jobs }, () =>
        postJob(service.url, input),
      ),
    )
    const result = await runChild<{ p99: number; failed: number }>(
      benchFile('children/probe'),
      { args: [JSON.stringify({ url: `${service.url}/health`, intervalMs: 5, durationMs })] },
    )
    if (result.failed > 0) throw new Error(`${result.failed} probes failed`)
    const response = await fetch(`${service.url}/jobs?status=completed`)
    const completed = ((await response.json()) as unknown[]).length
    const posted = await posting
    if (posted.some((p) => p.status !== 201)) throw new Error('a job was refused')
    return { p99: result.p99, unfinished: posted.length - completed }
  } finally {
    await service.stop('SIGKILL')
  }
}

export const healthLatency: Benchmark = {
  id: 'health-under-cpu-load',
  title: '`GET /health` p99 while CPU jobs saturate the thread pool',
  against:
    'the same on an idle service; and with the same work run on the ' +
    'event loop',
  goal: '≤ 2× idle on the pool; report the event-loop case',
  async run(context) {
    const durationMs = context.tiny ? 100 : 1_500
    const rounds = context.tiny ? 1 : Math.min(context.rounds, 3)
    const jobMs = 50
    const hashRounds = context.tiny ? 100 : calibrateRounds(jobMs)
    // More work than the run lasts, for every thread (CPU_POOL_SIZE
    // default: cores − 1, at least 1); `unfinished` checks it.
    const threads = Math.max(1, availableParallelism() - 1)
    const jobs = context.tiny ? 4 : Math.ceil((2 * durationMs * threads) / jobMs)
    const runs: Record<string, HealthRun[]> = { idle: [], pool: [], loop: [] }
    const measure = (key: string, type?: 'hash' | 'hash-blocking') => async () => {
      const run = await healthUnder({ type, jobs, rounds: hashRounds, durationMs })
      runs[key]?.push(run)
      return run.p99
    }
    const values = await interleave(
      { ...context, rounds },
      {
        idle: measure('idle'),
        pool: measure('pool', 'hash'),
        loop: measure('loop', 'hash-blocking'),
      },
    )
    const idle = measured('idle', 'idle service: p99', 'ms', values.idle)
    const pool = measured('pool', 'hash jobs on the thread pool: p99', 'ms', values.pool)
    const loop = measured('loop', 'the same work on the event loop: p99', 'ms', values.loop)
    // Only the pool runs can be checked: in the event-loop runs the
    // answers (and the count) wait for the jobs themselves.
    const drained = (runs.pool ?? []).filter((r) => r.unfinished === 0)
    context.log(`  unfinished jobs after each pool run: ${(runs.pool ?? []).map((r) => r.unfinished).join(', ')}`)
    return {
      sides: [
        {
          name: 'idle',
          does:
            '`src/main` started fresh, no job; a probe in another process ' +
            'sends `GET /health` every 5 ms for ' +
            `${durationMs} ms without waiting for earlier answers, timing ` +
            'each from when it was due (open loop: a stall cannot hide), ' +
            'and waits for every answer; p99 of all of them',
        },
        {
          name: 'thread pool',
          does:
            `the same, after posting ${jobs} \`hash\` jobs of ` +
            `${hashRounds} rounds (about ${jobMs} ms each on this ` +
            'machine), posted all at once as the probe starts: the default ' +
            'WORKER_COUNT (10) workers hand them to the CPU pool (default ' +
            'CPU_POOL_SIZE: cores − 1); jobs were still unfinished when ' +
            'the probe ended, so the pool was busy throughout',
        },
        {
          name: 'event loop',
          does:
            'the same jobs as `hash-blocking` (the same chain run by the ' +
            'handler on the event loop), in a service composed like ' +
            '`src/main` with that one extra job type ' +
            '(`bench/children/blocking-service.ts`)',
        },
      ],
      figures: [
        idle,
        pool,
        loop,
        ratio('pool/idle', 'thread pool ÷ idle', pool, idle, { op: '<=', value: 2 }),
        ratio('loop/idle', 'event loop ÷ idle', loop, idle),
      ],
      charts: [
        {
          title: 'GET /health p99',
          unit: 'ms',
          keys: ['idle', 'pool', 'loop'],
        },
      ],
      setup:
        `${durationMs} ms of probing per run, ${rounds} rounds, a fresh ` +
        'service process each run',
      notes:
        drained.length > 0
          ? [`${drained.length} loaded runs ran out of jobs before the probe ended: their p99 undercounts`]
          : [],
    }
  },
}
