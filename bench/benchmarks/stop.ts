/**
 * Stop time: from SIGTERM to the exit of the service process, idle, and
 * with 100 running 200 ms jobs; against the start-to-exit of an empty
 * Node script (what a process costs to begin and end at all).
 */
import { once } from 'node:events'
import type { Benchmark } from '../lib/benchmark.ts'
import { benchFile, spawnNode } from '../lib/child.ts'
import { difference, interleave, measured } from '../lib/measure.ts'
import type { Figure } from '../lib/types.ts'
import { postJob, startService } from '../lib/service.ts'

/** Milliseconds from spawning an empty script to its exit. */
export async function emptyScriptMs(): Promise<number> {
  const start = performance.now()
  const child = spawnNode(benchFile('children/empty'))
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`empty script exited with ${code}`)
  return performance.now() - start
}

/** Milliseconds from SIGTERM to exit of an idle service. */
export async function idleStopMs(): Promise<number> {
  const service = await startService()
  const { code, ms } = await service.stop()
  if (code !== 0) throw new Error(`service exited with ${code}`)
  return ms
}

/**
 * Starts a service with `jobs` workers, warms it up, gives it `jobs` sleep
 * jobs of `jobMs`, and sends SIGTERM as soon as every one of them is
 * processing. Returns the stop time and the jobs' remaining time at the
 * signal. If one of them finished before all had started (a slow
 * machine), the attempt does not count and is made again, up to 5 times;
 * then it resolves with undefined.
 */
export async function loadedStop(jobs: number, jobMs: number) {
  for (let attempt = 1; ; attempt++) {
    const service = await startService({ WORKER_COUNT: String(jobs) })
    try {
      // Warm the request path up, so that posting takes less than a job.
      for (let i = 0; i < 2; i++) await postMany(service.url, jobs, 0)
      const ids = new Set(await postMany(service.url, jobs, jobMs))
      const started = await whenAllProcessing(service.url, ids)
      if (started !== undefined) {
        // Wall clock on both sides: the service stamps `updated_at` with it.
        const remainingMs = Math.max(...started) + jobMs - Date.now()
        const { code, ms } = await service.stop()
        if (code !== 0) throw new Error(`service exited with ${code}`)
        return { stopMs: ms, remainingMs, attempt }
      }
    } finally {
      await service.stop()
    }
    if (attempt === 5) return undefined
  }
}

async function postMany(url: string, jobs: number, ms: number): Promise<string[]> {
  const posted = await Promise.all(
    Array.from({ length: jobs }, () => postJob(url, { type: 'sleep', payload: { ms } })),
  )
  if (posted.some((p) => p.status !== 201)) throw new Error('a job was refused')
  return posted.map((p) => (JSON.parse(p.body) as { id: string }).id)
}

/**
 * Polls until every job of `ids` is processing, and returns their start
 * times; returns undefined if one of them finished first.
 */
async function whenAllProcessing(url: string, ids: ReadonlySet<string>) {
  for (;;) {
    // One page of up to 1,000 (the default is 100): every job posted here.
    const response = await fetch(`${url}/jobs?limit=1000`)
    const mine = ((await response.json()) as Job[]).filter((j) => ids.has(j.id))
    if (mine.some((job) => job.status === 'completed')) return undefined
    const running = mine.filter((job) => job.status === 'processing')
    if (running.length === ids.size) {
      return running.map((job) => Date.parse(job.updated_at))
    }
  }
}

interface Job {
  readonly id: string
  readonly status: string
  readonly updated_at: string
}

export const stopTime: Benchmark = {
  id: 'stop-time',
  title: 'Stop time: SIGTERM to exit, idle and with 100 running 200 ms jobs',
  against: 'the start-to-exit of an empty Node script',
  goal:
    'idle ≤ 100 ms more than the empty script; loaded ≤ the jobs\' ' +
    'remaining time + 100 ms',
  async run(context) {
    const jobs = context.tiny ? 5 : 100
    const jobMs = context.tiny ? 50 : 200
    const rounds = context.tiny ? 1 : Math.min(context.rounds, 5)
    const values = await interleave(
      { ...context, rounds },
      { empty: emptyScriptMs, idle: idleStopMs },
    )
    // The loaded stop is compared with its own jobs' remaining time,
    // measured in the same attempt: it needs no interleaving.
    const stops: number[] = []
    const remaining: number[] = []
    for (let round = 0; round < rounds; round++) {
      const result = await loadedStop(jobs, jobMs)
      if (result === undefined) continue
      stops.push(result.stopMs)
      remaining.push(result.remainingMs)
    }
    const empty = measured('empty', 'empty Node script, start to exit', 'ms', values.empty)
    const idle = measured('idle', 'idle service, SIGTERM to exit', 'ms', values.idle)
    const goal = { op: '<=' as const, value: 100 }
    const loadedFigures: Figure[] = []
    if (stops.length > 0) {
      const loaded = measured('loaded', `${jobs} running jobs, SIGTERM to exit`, 'ms', stops)
      const left = measured('remaining', 'their remaining time at SIGTERM', 'ms', remaining)
      loadedFigures.push(
        loaded,
        left,
        difference('loaded-remaining', 'loaded stop − remaining time', loaded, left, goal),
      )
    }
    return {
      sides: [
        {
          name: 'empty script',
          does: '`node` on an empty module: spawn to exit, as seen by the parent',
        },
        {
          name: 'idle',
          does:
            '`src/main` started (HOST=127.0.0.1, PORT=0), listening; ' +
            'SIGTERM, then time until the parent sees it exit',
        },
        {
          name: 'loaded',
          does:
            `the same with WORKER_COUNT=${jobs}, after ${jobs} \`sleep\` ` +
            `jobs of ${jobMs} ms were posted and all were \`processing\`; ` +
            'the remaining time is the last job\'s start (`updated_at`) + ' +
            `${jobMs} ms − the moment of SIGTERM`,
        },
      ],
      figures: [
        empty,
        idle,
        difference('idle-empty', 'idle stop − empty script', idle, empty, goal),
        ...loadedFigures,
      ],
      charts: [
        {
          title: 'milliseconds',
          unit: 'ms',
          keys: ['empty', 'idle', ...(stops.length > 0 ? ['remaining', 'loaded'] : [])],
        },
      ],
      setup: `${rounds} rounds, a fresh service process each time`,
      notes:
        stops.length < rounds
          ? [
              `${rounds - stops.length} of ${rounds} loaded rounds found no ` +
                `moment when all ${jobs} jobs ran at once (posting them ` +
                `took longer than ${jobMs} ms) and were left out`,
            ]
          : [],
      ...(stops.length === 0 ? { status: 'not-measured' as const } : {}),
    }
  },
}
