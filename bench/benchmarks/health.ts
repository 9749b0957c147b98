/**
 * `GET /health` latency while CPU-bound jobs keep the thread pool busy,
 * against the same service idle; and, reported, while the same work runs
 * on the event loop instead.
 */
import { hashChain } from '../../src/jobs/cpu/hash-chain.mjs'
import type { Benchmark } from '../lib/benchmark.ts'
import { benchFile } from '../lib/child.ts'
import { interleave, measured, ratio, summarize } from '../lib/measure.ts'
import { postJob, startService } from '../lib/service.ts'
import { load } from './http.ts'

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
  /** Jobs still waiting when the load ended: the pool never ran dry. */
  readonly backlog: number
}

/**
 * Starts a service, posts `jobs` jobs of `type` (none when idle), loads
 * `GET /health` at a steady rate, and reports its p99. Kills the service
 * after: what is left of the jobs is not waited for.
 */
export async function healthUnder(options: {
  type?: 'hash' | 'hash-blocking'
  jobs: number
  rounds: number
  durationMs: number
}): Promise<HealthRun> {
  const blocking = options.type === 'hash-blocking'
  const service = await startService(
    { LOG_LEVEL: 'warn' },
    blocking ? benchFile('children/blocking-service') : undefined,
  )
  try {
    if (options.type !== undefined) {
      const input = { type: options.type, payload: { rounds: options.rounds } }
      for (let i = 0; i < options.jobs; i++) {
        const posted = await postJob(service.url, input)
        if (posted.status !== 201) throw new Error(`POST /jobs: ${posted.status}`)
      }
    }
    const result = await load({
      url: `${service.url}/health`,
      connections: 4,
      durationMs: options.durationMs,
      rate: 200,
    })
    const response = await fetch(`${service.url}/jobs?status=pending`)
    const backlog = ((await response.json()) as unknown[]).length
    return { p99: result.p99, backlog }
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
    const durationMs = context.tiny ? 300 : 2_000
    const rounds = context.tiny ? 1 : Math.min(context.rounds, 4)
    const jobMs = 50
    const hashRounds = context.tiny ? 100 : calibrateRounds(jobMs)
    // More work than the run lasts, on every thread (CPU_POOL_SIZE
    // default: cores − 1, at least 1); the backlog check proves it.
    const jobs = context.tiny ? 4 : Math.ceil((3 * durationMs) / jobMs)
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
    const drained = (runs.pool ?? []).concat(runs.loop ?? []).filter((r) => r.backlog === 0)
    return {
      sides: [
        {
          name: 'idle',
          does:
            '`src/main` started fresh, no job; autocannon in another ' +
            'process sends `GET /health` at 200 requests/s over 4 ' +
            `connections for ${durationMs} ms; p99 of every answer`,
        },
        {
          name: 'thread pool',
          does:
            `the same, after posting ${jobs} \`hash\` jobs of ` +
            `${hashRounds} rounds (about ${jobMs} ms each on the event ` +
            'loop here): the default WORKER_COUNT (10) workers hand them ' +
            'to the CPU pool (default CPU_POOL_SIZE: cores − 1); jobs were ' +
            'still pending when the load ended, so the pool was busy ' +
            'throughout',
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
        `${durationMs} ms of load per run, ${rounds} rounds, a fresh ` +
        'service process each run',
      notes:
        drained.length > 0
          ? [`${drained.length} loaded runs ran out of jobs before the load ended`]
          : [],
    }
  },
}
