/**
 * `POST /jobs` over HTTP, load from a second process (autocannon), against
 * the limit: a bare `node:http` server in its own process answering the
 * same 201 JSON body. The service runs as `npm start` runs it.
 */
import type { Benchmark } from '../lib/benchmark.ts'
import { benchFile, runChild, startChild } from '../lib/child.ts'
import { interleave, measured, ratio } from '../lib/measure.ts'
import { postJob, startService } from '../lib/service.ts'
import type { Figure } from '../lib/types.ts'

/** What `bench/children/load` prints. */
export interface LoadResult {
  readonly ok: number
  readonly non2xx: number
  readonly errors: number
  readonly seconds: number
  readonly rps: number
  readonly p50: number
  readonly p99: number
}

/** Runs autocannon from its own process. */
export function load(options: {
  url: string
  connections: number
  durationMs: number
  method?: 'GET' | 'POST'
  body?: string
  rate?: number
}): Promise<LoadResult> {
  return runChild<LoadResult>(benchFile('children/load'), {
    args: [JSON.stringify(options)],
  })
}

export const JOB_INPUT = { type: 'sleep', payload: { ms: 0 } }

/** Polls until the service has no pending or processing job. */
async function settled(url: string): Promise<void> {
  for (;;) {
    const busy = await Promise.all(
      ['pending', 'processing'].map(async (status) => {
        const response = await fetch(`${url}/jobs?status=${status}`)
        return ((await response.json()) as unknown[]).length
      }),
    )
    if (busy.every((n) => n === 0)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export const postJobs: Benchmark = {
  id: 'http-post-jobs',
  title: '`POST /jobs` over HTTP, 10 and 100 connections',
  against:
    'the limit: a bare `node:http` server answering the same 201 JSON body',
  goal: '≥ 0.6× its requests per second, p99 ≤ 2× its p99',
  async run(context) {
    const durationMs = context.tiny ? 100 : 2_000
    const rounds = context.tiny ? 1 : Math.min(context.rounds, 3)
    const connections = context.tiny ? [10] : [10, 100]
    // Enough workers and queue room that no request is refused.
    const service = await startService({
      WORKER_COUNT: '100',
      JOB_QUEUE_CAPACITY: '1000000',
    })
    try {
      const sample = await postJob(service.url, JOB_INPUT)
      if (sample.status !== 201) throw new Error(`POST /jobs: ${sample.status}`)
      const bare = await startChild<{ port: number }>(
        benchFile('children/bare-server'),
        { args: [sample.body] },
      )
      try {
        const bareUrl = `http://127.0.0.1:${bare.ready.port}`
        const body = JSON.stringify(JOB_INPUT)
        const variants: Record<string, () => Promise<number>> = {}
        const results: Record<string, LoadResult[]> = {}
        for (const c of connections) {
          for (const [name, url] of [
            [`service${c}`, service.url],
            [`bare${c}`, bareUrl],
          ] as const) {
            results[name] = []
            variants[name] = async () => {
              const result = await load({
                url: `${url}/jobs`,
                connections: c,
                durationMs,
                method: 'POST',
                body,
              })
              results[name]?.push(result)
              // The jobs just accepted run now, not during the next run.
              if (name.startsWith('service')) await settled(service.url)
              return result.rps
            }
          }
        }
        await interleave({ ...context, rounds }, variants)
        return report(connections, results, rounds, durationMs)
      } finally {
        await bare.stop()
      }
    } finally {
      await service.stop()
    }
  },
}

function report(
  connections: readonly number[],
  results: Record<string, LoadResult[]>,
  rounds: number,
  durationMs: number,
) {
  // The warm-up round is not in `interleave`'s values: drop it here too.
  const last = (name: string) => (results[name] ?? []).slice(-rounds)
  const figures: Figure[] = []
  const ratios: Figure[] = []
  let refused = 0
  for (const c of connections) {
    const service = last(`service${c}`)
    const bare = last(`bare${c}`)
    refused += service.reduce((n, r) => n + r.non2xx + r.errors, 0)
    const rps = measured(`service${c}.rps`, `service, ${c} conn.: req/s`, 'req/s', service.map((r) => r.rps))
    const bareRps = measured(`bare${c}.rps`, `bare node:http, ${c} conn.: req/s`, 'req/s', bare.map((r) => r.rps))
    const p99 = measured(`service${c}.p99`, `service, ${c} conn.: p99`, 'ms', service.map((r) => r.p99))
    const bareP99 = measured(`bare${c}.p99`, `bare node:http, ${c} conn.: p99`, 'ms', bare.map((r) => r.p99))
    figures.push(rps, bareRps, p99, bareP99)
    ratios.push(
      ratio(`rps${c}`, `${c} conn.: req/s ÷ bare`, rps, bareRps, { op: '>=', value: 0.6 }),
      ratio(`p99-${c}`, `${c} conn.: p99 ÷ bare`, p99, bareP99, { op: '<=', value: 2 }),
    )
  }
  return {
    sides: [
      {
        name: 'the service',
        does:
          '`src/main` in its own process (WORKER_COUNT=100, ' +
          'JOB_QUEUE_CAPACITY=1000000, JSON logs on a drained pipe): ' +
          'Hono routes, validation, `submitJob` into the memory store and ' +
          'the queue, 201 with the job; its workers run each `sleep 0` job ' +
          'meanwhile. Between runs the bench waits until no job is left',
      },
      {
        name: 'the limit',
        does:
          'a bare `node:http` server in its own process that reads the ' +
          'body and answers 201 with a real job\'s JSON (captured from the ' +
          'service) and the same `Location` header',
      },
      {
        name: 'load',
        does:
          `autocannon in a third process, ${durationMs} ms per run, ` +
          '`POST /jobs` with `{"type":"sleep","payload":{"ms":0}}`; ' +
          'latency of every 2xx response recorded to the microsecond',
      },
    ],
    figures: [...figures, ...ratios],
    charts: [
      {
        title: 'requests per second, relative to bare node:http',
        unit: '× bare',
        keys: ratios.filter((r) => r.key.startsWith('rps')).map((r) => r.key),
        line: { value: 0.6, label: 'goal 0.6×' },
      },
      {
        title: 'p99 latency, relative to bare node:http',
        unit: '× bare',
        keys: ratios.filter((r) => r.key.startsWith('p99')).map((r) => r.key),
        line: { value: 2, label: 'goal ≤ 2×' },
      },
    ],
    setup:
      `${connections.join(' and ')} connections, ${durationMs} ms per run, ` +
      `${rounds} rounds`,
    notes:
      refused > 0 ? [`${refused} requests to the service were not answered 2xx`] : [],
  }
}
