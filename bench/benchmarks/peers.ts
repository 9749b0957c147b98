/**
 * The durable path against the real peers, graphile-worker 0.16 and
 * pg-boss 10, on one embedded PostgreSQL server with the service's own
 * settings: drain, enqueue over HTTP, submit-to-start latency, three
 * instances, and the bytes a waiting job costs. Every side runs in its own
 * process, on a new database each run, in interleaved rounds.
 */
import type { Benchmark } from '../lib/benchmark.ts'
import { benchFile, runChild, startChild } from '../lib/child.ts'
import { interleave, measured, ratio } from '../lib/measure.ts'
import { withPostgres } from '../lib/postgres.ts'
import { drain, graphileWorker, pgBoss, workstream, type Drained, type Queue } from '../lib/queues.ts'
import { postJob, startService } from '../lib/service.ts'
import type { Figure } from '../lib/types.ts'
import { load, type LoadResult } from './http.ts'

/** Concurrent jobs on every side: the service's default `WORKER_COUNT`. */
const CONCURRENCY = 10
/** pg-boss's batch when it is let go as fast as it can. */
const BATCH = 100

function settingsNote(settings: Record<string, string>): string {
  return (
    'one embedded PostgreSQL ' +
    Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')
  )
}

/**
 * What the server did for each job of the measured drains (the warm-up
 * left out), from pg_stat_statements: statements and execution time.
 */
function costFigures(key: string, label: string, drained: readonly Drained[], rounds: number): Figure[] {
  const last = drained.slice(-rounds)
  return [
    measured(`${key}.statements`, `${label}: statements per job`, 'statements', last.map((d) => d.statementsPerJob)),
    measured(`${key}.server`, `${label}: server time per job`, 'µs', last.map((d) => d.serverMicrosPerJob)),
  ]
}

export const peerDrain: Benchmark = {
  id: 'peers-drain',
  title: 'Drain: no-op jobs inserted first, then processed to the end',
  against: 'graphile-worker 0.16 and pg-boss 10 on the same PostgreSQL server',
  goal: '≥ 1.0× graphile-worker, ≥ 3× pg-boss',
  async run(context) {
    const n = context.tiny ? 50 : 20_000
    // pg-boss at this concurrency runs 20 jobs a second whatever the
    // number (see its side): 20,000 would take 17 minutes a run.
    const polled = context.tiny ? 20 : 400
    const rounds = context.tiny ? 1 : Math.min(context.rounds, 3)
    const sides: [Queue, number][] = [
      [workstream, n],
      [graphileWorker, n],
      [pgBoss(1), polled],
      [pgBoss(BATCH), n],
    ]
    return withPostgres(async (server) => {
      const drained: Record<string, Drained[]> = {}
      const variants = Object.fromEntries(
        sides.map(([q, size]) => [
          q.name,
          async () => {
            const result = await drain(server, q, { n: size, concurrency: CONCURRENCY })
            ;(drained[q.name] ??= []).push(result)
            return result.jobsPerSecond
          },
        ]),
      )
      const values = await interleave({ ...context, rounds }, variants)
      const [ours, graphile, boss, batched] = sides.map(([q]) =>
        measured(q.name, `${q.name}: jobs/s`, 'jobs/s', values[q.name] ?? []),
      ) as [Figure, Figure, Figure, Figure]
      const costs = sides.flatMap(([q]) =>
        costFigures(q.name, q.name, drained[q.name] ?? [], rounds),
      )
      return {
        sides: [
          {
            name: 'this service',
            does:
              '`src/main` in its own process with `DATABASE_URL`, ' +
              `WORKER_COUNT=${CONCURRENCY} and a \`noop\` job type, its ` +
              'defaults otherwise (LISTEN wake-ups, 30 s leases, JSON logs ' +
              'of every job to a drained pipe); jobs inserted with one ' +
              '`INSERT … SELECT` into its table',
          },
          {
            name: 'graphile-worker',
            does:
              `\`run()\` with concurrency ${CONCURRENCY} and a no-op task, ` +
              'its defaults otherwise (its info log of every job to a drained ' +
              "pipe); jobs added with `graphile_worker.add_jobs` in one call",
          },
          {
            name: 'pg-boss',
            does:
              `${CONCURRENCY} \`work()\` calls on one queue, each fetching one ` +
              'job (batchSize 1: the same concurrency), polling every 0.5 s (its ' +
              'shortest), its defaults otherwise; jobs added with its ' +
              '`insert()` (one statement). A pg-boss 10 worker waits out its ' +
              'polling interval after every fetch, busy or not, so this side ' +
              `is bound to ${CONCURRENCY} jobs per 0.5 s; it drains ` +
              `${polled.toLocaleString('en')} jobs a run, not ` +
              `${n.toLocaleString('en')}`,
          },
          {
            name: 'pg-boss, batched',
            does:
              `the same with batchSize ${BATCH}: up to ${CONCURRENCY * BATCH} jobs ` +
              'in flight, how pg-boss 10 is meant to go fast; not the same ' +
              'concurrency, shown for what pg-boss can do',
          },
          {
            name: 'timing',
            does:
              'the workers run and idle first; the clock starts when the ' +
              'insert has committed and stops when a count (read every ' +
              '50 ms) finds no job undone. `pg_stat_statements` counts the ' +
              "statements run in that time (the bench's counts left out) " +
              'and the time the server spent executing them',
          },
        ],
        figures: [
          ours,
          graphile,
          boss,
          batched,
          ratio('ws/graphile', 'this service ÷ graphile-worker', ours, graphile, { op: '>=', value: 1 }),
          ratio('ws/pgboss', 'this service ÷ pg-boss', ours, boss, { op: '>=', value: 3 }),
          ratio('ws/pgboss-batch', `this service ÷ pg-boss, batchSize ${BATCH}`, ours, batched),
          ...costs,
        ],
        charts: [
          {
            title: 'jobs per second, draining',
            unit: 'jobs/s',
            keys: sides.map(([q]) => q.name),
          },
        ],
        setup:
          `${n.toLocaleString('en')} jobs per run (pg-boss: ${polled.toLocaleString('en')}), ` +
          `${CONCURRENCY} workers on every side, ${rounds} rounds; ` +
          settingsNote(await server.settings()),
        notes: [],
      }
    })
  },
}

export const peerInstances: Benchmark = {
  id: 'peers-three-instances',
  title: 'Three instances on one database, draining',
  against: 'one instance of this service on the same database',
  goal: 'report, and say what limits it',
  async run(context) {
    const n = context.tiny ? 50 : 20_000
    const rounds = context.tiny ? 1 : Math.min(context.rounds, 3)
    return withPostgres(async (server) => {
      const drained: Record<string, Drained[]> = { one: [], three: [] }
      const run = (key: 'one' | 'three', instances: number) => async () => {
        const result = await drain(server, workstream, { n, concurrency: CONCURRENCY, instances })
        drained[key]?.push(result)
        return result.jobsPerSecond
      }
      const values = await interleave({ ...context, rounds }, { one: run('one', 1), three: run('three', 3) })
      const one = measured('one', 'one instance: jobs/s', 'jobs/s', values.one)
      const three = measured('three', 'three instances: jobs/s', 'jobs/s', values.three)
      const costs = [
        ...costFigures('one', 'one instance', drained.one ?? [], rounds),
        ...costFigures('three', 'three instances', drained.three ?? [], rounds),
      ]
      return {
        sides: [
          {
            name: 'one instance',
            does: `the drain of the row above: one \`src/main\` process, WORKER_COUNT=${CONCURRENCY}`,
          },
          {
            name: 'three instances',
            does:
              `three \`src/main\` processes on the same database, ${CONCURRENCY} ` +
              'workers each, sharing the jobs through `FOR UPDATE SKIP LOCKED`',
          },
        ],
        figures: [one, three, ratio('three/one', 'three ÷ one', three, one), ...costs],
        charts: [],
        setup:
          `${n.toLocaleString('en')} jobs per run, ${rounds} rounds, ` +
          `${settingsNote(await server.settings())}`,
        notes: [],
      }
    })
  },
}

export const peerLatency: Benchmark = {
  id: 'peers-latency',
  title: 'Latency from submit to start, idle queue',
  against: "graphile-worker's `addJob` to task start, on the same server",
  goal: 'p50 and p99 ≤ 1.0× graphile-worker',
  async run(context) {
    const samples = context.tiny ? 3 : 200
    const pollSamples = context.tiny ? 2 : 20
    const rounds = context.tiny ? 1 : Math.min(context.rounds, 3)
    return withPostgres(async (server) => {
      const results: Record<string, { p50: number; p99: number }[]> = {}
      const variant = (key: string, system: string, n: number, pauseMs: number[], env = {}) => async () => {
        const url = await server.database(key)
        const result = await runChild<{ p50: number; p99: number }>(
          benchFile('children/peer-latency'),
          { args: [JSON.stringify({ system, url, samples: n, pauseMs, env })] },
        )
        ;(results[key] ??= []).push(result)
        return result.p50
      }
      await interleave(
        { ...context, rounds },
        {
          notify: variant('notify', 'workstream', samples, [20, 40]),
          graphile: variant('graphile', 'graphile', samples, [20, 40]),
          // Jobs arrive at any point of the poll interval (1 s by default).
          poll: variant('poll', 'workstream', pollSamples, [0, 1_000], { WAKEUPS: 'poll' }),
        },
      )
      const last = (key: string) => (results[key] ?? []).slice(-rounds)
      const figure = (key: string, label: string, q: 'p50' | 'p99') =>
        measured(`${key}.${q}`, `${label}: ${q}`, 'ms', last(key).map((r) => r[q]))
      const ours50 = figure('notify', 'this service (LISTEN)', 'p50')
      const ours99 = figure('notify', 'this service (LISTEN)', 'p99')
      const graphile50 = figure('graphile', 'graphile-worker', 'p50')
      const graphile99 = figure('graphile', 'graphile-worker', 'p99')
      return {
        sides: [
          {
            name: 'this service',
            does:
              'one service (`createService`, WORKER_COUNT=1, its defaults: ' +
              'LISTEN wake-ups) and, in the same process, a second ' +
              '`PostgresStore` that creates each job, so the wake-up comes ' +
              'through the database as it does for a job posted to another ' +
              'instance; timed from the create call to the handler starting',
          },
          {
            name: 'graphile-worker',
            does:
              '`run()` with concurrency 1 and `makeWorkerUtils().addJob()` in ' +
              'the same process; timed from the `addJob` call to the task ' +
              'starting',
          },
          {
            name: 'this service, polling',
            does:
              'the same with `WAKEUPS=poll` (no LISTEN; POLL_INTERVAL 1 s): ' +
              'what a database without notifications would give',
          },
        ],
        figures: [
          ours50,
          ours99,
          graphile50,
          graphile99,
          figure('poll', 'this service (polling)', 'p50'),
          figure('poll', 'this service (polling)', 'p99'),
          ratio('p50', 'p50 ÷ graphile-worker', ours50, graphile50, { op: '<=', value: 1 }),
          ratio('p99', 'p99 ÷ graphile-worker', ours99, graphile99, { op: '<=', value: 1 }),
        ],
        charts: [],
        setup:
          `${samples} jobs per run one after another, each after a pause of ` +
          `20–40 ms (when polling: ${pollSamples} jobs, pauses of 0–1,000 ms), ` +
          `${rounds} rounds; ` +
          settingsNote(await server.settings()),
        notes: [],
      }
    })
  },
}

export const peerEnqueue: Benchmark = {
  id: 'peers-enqueue-http',
  title: '`POST /jobs` with the durable store',
  against: 'a bare `node:http` server running the same single `INSERT` through `pg`',
  goal: '≥ 0.6× its requests per second, p99 ≤ 2× its p99',
  async run(context) {
    const durationMs = context.tiny ? 100 : 3_000
    const rounds = context.tiny ? 1 : Math.min(context.rounds, 3)
    const connections = 10
    return withPostgres(async (server) => {
      const serviceUrl = await server.database('enqueue_service')
      const bareUrl = await server.database('enqueue_bare')
      await workstream.install(bareUrl)
      const service = await startService(
        {
          STORE: 'postgres',
          DATABASE_URL: serviceUrl,
          WORKER_COUNT: '1',
          DATABASE_POOL_SIZE: String(connections),
          JOB_QUEUE_CAPACITY: '1000000',
        },
        benchFile('children/peer-workstream'),
      )
      const bare = await startChild<{ port: number }>(benchFile('children/bare-pg-server'), {
        args: [JSON.stringify({ url: bareUrl, poolSize: connections })],
      })
      let heldId: string | undefined
      try {
        // The one worker holds this job: the jobs posted next stay waiting.
        const held = await postJob(service.url, { type: 'hold' })
        if (held.status !== 201) throw new Error(`POST /jobs: ${held.status} ${held.body}`)
        heldId = (JSON.parse(held.body) as { id: string }).id
        const body = JSON.stringify({ type: 'noop' })
        const results: Record<string, LoadResult[]> = { service: [], bare: [] }
        const run = (name: 'service' | 'bare', url: string) => async () => {
          const result = await load({ url: `${url}/jobs`, connections, durationMs, method: 'POST', body })
          results[name]?.push(result)
          return result.rps
        }
        await interleave(
          { ...context, rounds },
          {
            service: run('service', service.url),
            bare: run('bare', `http://127.0.0.1:${bare.ready.port}`),
          },
        )
        const last = (name: string) => (results[name] ?? []).slice(-rounds)
        const refused = last('service').reduce((n, r) => n + r.non2xx + r.errors, 0)
        const fig = (name: string, label: string, q: 'rps' | 'p50' | 'p99', unit: string) =>
          measured(`${name}.${q}`, `${label}: ${q === 'rps' ? 'req/s' : q}`, unit, last(name).map((r) => r[q]))
        const rps = fig('service', 'service', 'rps', 'req/s')
        const bareRps = fig('bare', 'bare node:http + pg', 'rps', 'req/s')
        const p99 = fig('service', 'service', 'p99', 'ms')
        const bareP99 = fig('bare', 'bare node:http + pg', 'p99', 'ms')
        return {
          sides: [
            {
              name: 'the service',
              does:
                '`src/main` with `DATABASE_URL` (DATABASE_POOL_SIZE=10): Hono, ' +
                'validation, the backlog count, `INSERT … RETURNING *` ' +
                "(its trigger's NOTIFY included), the `job_created` log line, " +
                '201 with the job; its one worker is held by a job that never ' +
                'ends, so the posted jobs wait and nothing else writes',
            },
            {
              name: 'the limit',
              does:
                'a bare `node:http` server in its own process: `JSON.parse` of ' +
                'the body, the same `INSERT` (same table and trigger, a named ' +
                'prepared statement, a `pg` pool of 10), 201 with the row',
            },
            {
              name: 'load',
              does:
                `autocannon in a third process, ${connections} connections, ` +
                `${durationMs} ms per run, \`POST /jobs\` with \`{"type":"noop"}\``,
            },
          ],
          figures: [
            rps,
            bareRps,
            fig('service', 'service', 'p50', 'ms'),
            fig('bare', 'bare node:http + pg', 'p50', 'ms'),
            p99,
            bareP99,
            ratio('rps', 'req/s ÷ bare', rps, bareRps, { op: '>=', value: 0.6 }),
            ratio('p99', 'p99 ÷ bare', p99, bareP99, { op: '<=', value: 2 }),
          ],
          charts: [],
          setup:
            `${connections} connections, ${durationMs} ms per run, ${rounds} rounds; ` +
            settingsNote(await server.settings()),
          notes: refused > 0 ? [`${refused} requests to the service were not answered 2xx`] : [],
        }
      } finally {
        // Canceled, the held job ends now instead of at the stop's deadline.
        if (heldId !== undefined) await fetch(`${service.url}/jobs/${heldId}/cancel`, { method: 'POST' })
        await bare.stop()
        await service.stop()
      }
    })
  },
}

export const peerMemory: Benchmark = {
  id: 'peers-job-bytes',
  title: 'Bytes per waiting job in the database',
  against: 'graphile-worker and pg-boss holding the same jobs',
  goal: 'report',
  async run(context) {
    const n = context.tiny ? 50 : 20_000
    return withPostgres(async (server) => {
      const figures: Figure[] = []
      for (const queue of [workstream, graphileWorker, pgBoss(1)]) {
        const url = await server.database(`bytes_${queue.name}`)
        await queue.install(url)
        const empty = await queue.bytes(server, url)
        await queue.insert(server, url, n)
        const full = await queue.bytes(server, url)
        figures.push(
          measured(queue.name, `${queue.name}: bytes per waiting job`, 'B', [(full - empty) / n]),
        )
      }
      return {
        sides: [
          {
            name: 'each queue',
            does:
              'its schema on a new database, then the no-op jobs of the drain ' +
              'row inserted and left waiting; `pg_total_relation_size` of the ' +
              'tables that hold them (heap, TOAST and every index), after ' +
              'minus before, ÷ the jobs',
          },
        ],
        figures,
        charts: [],
        setup: `${n.toLocaleString('en')} jobs, measured once (sizes do not drift)`,
        notes: [],
      }
    })
  },
}
