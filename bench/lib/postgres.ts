/**
 * One PostgreSQL server for the rows that compare durable queues: the
 * embedded one the service starts by default, in a temporary folder, with
 * the service's production settings (fsync on). Every side of every round
 * gets a new database on it, so no side inherits another's dead rows.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { startEmbeddedPostgres } from '../../src/jobs/store/embedded.ts'

/** A running server and a way to make databases on it. */
export interface BenchPostgres {
  /** Creates an empty database and returns its URL. */
  database(prefix: string): Promise<string>
  /** Runs `sql` in the database at `url` and returns the rows. */
  query<T extends pg.QueryResultRow>(url: string, sql: string, values?: unknown[]): Promise<T[]>
  /** `SHOW` values that make a run comparable (fsync, shared_buffers...). */
  settings(): Promise<Record<string, string>>
}

const SETTINGS = ['server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections', 'shared_preload_libraries']

let shared: Promise<{ bench: BenchPostgres; close(): Promise<void> }> | undefined

/**
 * The server of this run, started on first use and shared by every row
 * (starting one takes seconds); `closePostgres` stops it and removes it.
 */
export async function withPostgres<T>(fn: (server: BenchPostgres) => Promise<T>): Promise<T> {
  shared ??= startPostgres()
  return fn((await shared).bench)
}

/** Stops the shared server, if one was started. */
export async function closePostgres(): Promise<void> {
  const started = shared
  shared = undefined
  if (started !== undefined) await (await started).close()
}

async function startPostgres(): Promise<{ bench: BenchPostgres; close(): Promise<void> }> {
  const folder = await mkdtemp(path.join(tmpdir(), 'workstream-bench-pg-'))
  await chmod(folder, 0o711) // the server may run as another user (root)
  const server = await startEmbeddedPostgres({
    dataDir: path.join(folder, 'data'),
    // What each statement cost the server: the drain rows read it.
    settings: ['shared_preload_libraries=pg_stat_statements'],
  })
  const clients = new Map<string, pg.Client>()
  let count = 0
  const client = async (url: string): Promise<pg.Client> => {
    let found = clients.get(url)
    if (found === undefined) {
      found = new pg.Client({ connectionString: url })
      await found.connect()
      clients.set(url, found)
    }
    return found
  }
  const bench: BenchPostgres = {
    async database(prefix) {
      const name = `${prefix.replaceAll('-', '_')}_${++count}`
      await (await client(server.url)).query(`CREATE DATABASE ${name}`)
      const url = new URL(server.url)
      url.pathname = `/${name}`
      return url.toString()
    },
    async query(url, sql, values) {
      return (await (await client(url)).query(sql, values)).rows
    },
    async settings() {
      const values: Record<string, string> = {}
      for (const name of SETTINGS) {
        const [row] = await bench.query<Record<string, string>>(server.url, `SHOW ${name}`)
        values[name] = row?.[name] ?? ''
      }
      return values
    },
  }
  return {
    bench,
    async close() {
      for (const c of clients.values()) await c.end().catch(() => {})
      await server.stop()
      await rm(folder, { recursive: true, force: true })
    },
  }
}
