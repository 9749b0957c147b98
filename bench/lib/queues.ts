/**
 * The three durable queues the peer rows compare, each as the benchmark
 * drives it: a child process that runs its workers, a bulk insert of
 * no-op jobs (one statement, not timed), and a count of the jobs not yet
 * done, read from the database.
 */
import PgBoss from 'pg-boss'
import { runMigrations } from 'graphile-worker'
import pg from 'pg'
import { migrate } from '../../src/jobs/store/migrate.ts'
import { benchFile, startChild } from './child.ts'
import type { BenchPostgres } from './postgres.ts'
import { startService } from './service.ts'

export type QueueName = 'workstream' | 'graphile-worker' | 'pg-boss' | 'pg-boss-batch'

/** A running worker process of one of the queues. */
export interface Workers {
  stop(): Promise<unknown>
}

export interface Queue {
  readonly name: QueueName
  /** Installs the queue's schema in an empty database. */
  install(url: string): Promise<void>
  /** Starts a process running `concurrency` workers; resolves once ready. */
  start(url: string, concurrency: number): Promise<Workers>
  /** Adds `n` no-op jobs in one statement. */
  insert(server: BenchPostgres, url: string, n: number): Promise<void>
  /** Jobs not yet done (waiting, running, or not yet recorded). */
  remaining(server: BenchPostgres, url: string): Promise<number>
  /** Bytes of the tables and indexes that hold the jobs. */
  bytes(server: BenchPostgres, url: string): Promise<number>
}

async function count(server: BenchPostgres, url: string, sql: string): Promise<number> {
  const [row] = await server.query<{ n: string }>(url, sql)
  return Number(row?.n ?? NaN)
}

export const workstream: Queue = {
  name: 'workstream',
  async install(url) {
    const pool = new pg.Pool({ connectionString: url, max: 1 })
    try {
      await migrate(pool)
    } finally {
      await pool.end()
    }
  },
  start: (url, concurrency) =>
    startService(
      {
        STORE: 'postgres',
        DATABASE_URL: url,
        WORKER_COUNT: String(concurrency),
        JOB_QUEUE_CAPACITY: '1000000',
      },
      benchFile('children/peer-workstream'),
    ),
  insert: async (server, url, n) => {
    await server.query(
      url,
      "INSERT INTO jobs (type, payload, max_retries, timeout_ms) " +
        "SELECT 'noop', 'null'::jsonb, 3, 30000 FROM generate_series(1, $1)",
      [n],
    )
  },
  remaining: (server, url) =>
    count(
      server,
      url,
      "SELECT count(*) AS n FROM jobs WHERE status IN ('pending', 'retrying', 'processing')",
    ),
  bytes: (server, url) =>
    count(server, url, "SELECT pg_total_relation_size('jobs') AS n"),
}

export const graphileWorker: Queue = {
  name: 'graphile-worker',
  install: (url) => runMigrations({ connectionString: url }),
  async start(url, concurrency) {
    const child = await startChild<{ ready: boolean }>(benchFile('children/peer-graphile'), {
      args: [JSON.stringify({ url, concurrency })],
    })
    return { stop: () => child.stop() }
  },
  insert: async (server, url, n) => {
    await server.query(
      url,
      // add_jobs: its batch insert, one call for every job.
      'SELECT graphile_worker.add_jobs(ARRAY(' +
        "SELECT ('noop', '{}', NULL, NULL, NULL, NULL, NULL, NULL)" +
        '::graphile_worker.job_spec FROM generate_series(1, $1)))',
      [n],
    )
  },
  // graphile-worker deletes a job once it has succeeded.
  remaining: (server, url) =>
    count(server, url, 'SELECT count(*) AS n FROM graphile_worker._private_jobs'),
  bytes: (server, url) =>
    count(server, url, "SELECT pg_total_relation_size('graphile_worker._private_jobs') AS n"),
}

/**
 * pg-boss, each worker fetching `batchSize` jobs at a time: 1 is the same
 * concurrency as the others; more is how pg-boss 10 goes faster.
 */
export const pgBoss = (batchSize: number): Queue => ({
  name: batchSize === 1 ? 'pg-boss' : 'pg-boss-batch',
  async install(url) {
    const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false })
    await boss.start()
    await boss.createQueue('noop')
    await boss.stop({ graceful: false, wait: true })
  },
  async start(url, concurrency) {
    const child = await startChild<{ ready: boolean }>(benchFile('children/peer-pgboss'), {
      args: [JSON.stringify({ url, concurrency, batchSize })],
    })
    return { stop: () => child.stop() }
  },
  // pg-boss's own bulk insert: one statement over a JSON array.
  async insert(_server, url, n) {
    const boss = new PgBoss({
      connectionString: url,
      max: 1,
      supervise: false,
      schedule: false,
      migrate: false,
    })
    await boss.start()
    try {
      await boss.insert(Array.from({ length: n }, () => ({ name: 'noop', data: {} })))
    } finally {
      await boss.stop({ graceful: false, wait: true })
    }
  },
  remaining: (server, url) =>
    count(
      server,
      url,
      "SELECT count(*) AS n FROM pgboss.job WHERE name = 'noop' AND state <> 'completed'",
    ),
  // pg-boss 10 keeps each queue in a partition of `pgboss.job`.
  bytes: (server, url) =>
    count(
      server,
      url,
      "SELECT sum(pg_total_relation_size(relid)) AS n FROM pg_partition_tree('pgboss.job')",
    ),
})

/** What one drain measured. */
export interface Drained {
  readonly jobsPerSecond: number
  /** Statements the workers ran per job (the bench's own counts left out). */
  readonly statementsPerJob: number
  /** Time the server spent executing them, per job, in microseconds. */
  readonly serverMicrosPerJob: number
}

/**
 * Runs `instances` worker processes of `queue`, each with `concurrency`
 * workers, on a new database; once they are ready, inserts `n` jobs and
 * times, from the insert's commit, until the database holds none undone
 * (read every 50 ms: a cheap count, the same load on every side). The
 * server's `pg_stat_statements` says what the workers' statements cost.
 */
export async function drain(
  server: BenchPostgres,
  queue: Queue,
  options: { n: number; concurrency: number; instances?: number },
): Promise<Drained> {
  const url = await server.database(queue.name)
  await queue.install(url)
  await server.query(url, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
  const workers = await Promise.all(
    Array.from({ length: options.instances ?? 1 }, () => queue.start(url, options.concurrency)),
  )
  try {
    await queue.insert(server, url, options.n)
    await server.query(url, RESET_STATEMENTS)
    const began = performance.now()
    while ((await queue.remaining(server, url)) > 0) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const seconds = (performance.now() - began) / 1000
    const [cost] = await server.query<{ calls: string; ms: number }>(url, STATEMENT_COST)
    return {
      jobsPerSecond: options.n / seconds,
      statementsPerJob: Number(cost?.calls ?? NaN) / options.n,
      serverMicrosPerJob: ((cost?.ms ?? NaN) * 1000) / options.n,
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()))
  }
}

const RESET_STATEMENTS =
  'SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database ' +
  'WHERE datname = current_database()), 0)'

// Every statement in this database since the reset, but the bench's own.
const STATEMENT_COST = `
  SELECT coalesce(sum(calls), 0) AS calls,
    coalesce(sum(total_exec_time), 0)::float8 AS ms
  FROM pg_stat_statements
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND query NOT LIKE 'SELECT count(*) AS n FROM%'
    AND query NOT LIKE 'SELECT pg_stat_statements_reset%'`
