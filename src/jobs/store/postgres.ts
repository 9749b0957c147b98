/**
 * The store contract kept by PostgreSQL, through node-postgres (`pg`).
 * Each method is one statement (from `queries.sql`), so each is atomic by
 * itself; time is the database's `now()`, one clock for every instance.
 * The statements are prepared by name: each connection parses and plans
 * one once, then only sends its values.
 */
import pg from 'pg'
import {
  IdempotencyConflictError,
  messageOf,
  StoreUnavailableError,
} from '../errors.ts'
import {
  checkPayload,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  deepFreeze,
  JOB_STATUSES,
  storableText,
  type Job,
  type JobStatus,
  type NewJob,
} from '../job.ts'
import type {
  CancelRequest,
  ClaimedJob,
  ClaimOptions,
  Created,
  CreateOptions,
  HeldLease,
  JobPage,
  JobStore,
  Lease,
  ListQuery,
  Outcome,
  PrunePolicy,
  RescuePolicy,
  Rescued,
} from './contract.ts'
import { migrate } from './migrate.ts'
import { readStatements } from './sql.ts'

const statements = readStatements()

/** Options of `PostgresStore.open`. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (`DATABASE_URL`). */
  readonly connectionString: string
  /** The most connections at once (workers, fetcher and HTTP share them). */
  readonly maxConnections?: number
  /** How long to wait for a connection before failing, in ms. */
  readonly connectTimeoutMs?: number
  /** Hears about a pooled connection that broke while idle. */
  readonly onConnectionError?: (error: Error) => void
}

/** A job row as `pg` returns it. */
interface JobRow {
  readonly seq: string
  readonly id: string
  readonly type: string
  readonly payload: unknown
  readonly status: JobStatus
  readonly attempts: number
  readonly max_retries: number
  readonly timeout_ms: number
  readonly last_error: string | null
  readonly run_at: Date
  readonly created_at: Date
  readonly updated_at: Date
  readonly locked_by: string | null
  readonly request_digest: string | null
}

/** The PostgreSQL `JobStore`. Safe for many instances on one database. */
export class PostgresStore implements JobStore {
  readonly durable = true
  readonly #pool: pg.Pool
  #closed: Promise<void> | undefined
  /** Finishes waiting for the next statement, and whether one is out. */
  readonly #finishes: PendingFinish[] = []
  #finishing = false

  private constructor(pool: pg.Pool) {
    this.#pool = pool
  }

  /** Connects, runs the migrations, and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      application_name: 'workstream',
    })
    // An idle connection that breaks (a restart of the server) emits
    // 'error' on the pool; with no listener, that would end the process.
    pool.on('error', (error) => options.onConnectionError?.(error))
    try {
      await migrate(pool)
    } catch (error) {
      await pool.end()
      throw unavailable(error)
    }
    return new PostgresStore(pool)
  }

  async create(input: NewJob, options: CreateOptions = {}): Promise<Created> {
    checkPayload(input.payload)
    const { idempotency } = options
    const values = [
      input.type,
      JSON.stringify(input.payload ?? null),
      input.max_retries ?? DEFAULT_MAX_RETRIES,
      input.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      idempotency?.key ?? null,
      idempotency?.digest ?? null,
    ]
    // Twice at most: the first job with this key may be pruned between
    // the insert that met it and the read that looks for it.
    for (let tries = 0; tries < 2; tries++) {
      const [row] = await this.#query<JobRow>('create', values)
      if (row !== undefined) return { job: toJob(row), created: true }
      const [earlier] = await this.#query<JobRow>('find-by-key', [
        idempotency!.key,
      ])
      if (earlier === undefined) continue
      if (earlier.request_digest !== idempotency!.digest) {
        throw new IdempotencyConflictError(idempotency!.key)
      }
      return { job: toJob(earlier), created: false }
    }
    throw new Error(`job with Idempotency-Key "${idempotency!.key}" vanished`)
  }

  async get(id: string): Promise<Job | undefined> {
    if (!isUuid(id)) return undefined
    const [row] = await this.#query<JobRow>('get', [id])
    return row && toJob(row)
  }

  async list(query: ListQuery): Promise<JobPage> {
    const after = query.after === undefined ? '0' : query.after
    if (!/^\d{1,18}$/.test(after)) return { jobs: [] }
    // One more than asked: whether it comes says if there is a next page.
    const limit = query.limit + 1
    const bytes = query.maxBytes ?? Number.MAX_SAFE_INTEGER
    type Row = JobRow & { fetched: string }
    const rows =
      query.status === undefined
        ? await this.#query<Row>('list', [after, limit, bytes])
        : await this.#query<Row>('list-by-status', [query.status, after, limit, bytes])
    const page = rows.slice(0, query.limit)
    // Fewer rows than fetched: the byte bound cut the page short.
    const fetched = Number(rows[0]?.fetched ?? 0)
    const more = rows.length > query.limit || rows.length < fetched
    const next = more ? page.at(-1)?.seq : undefined
    return { jobs: page.map(toJob), next }
  }

  async claim(
    owner: string,
    limit: number,
    leaseMs: number,
    options: ClaimOptions = {},
  ): Promise<ClaimedJob[]> {
    const rows = await this.#query<JobRow>('claim', [
      owner,
      limit,
      leaseMs,
      options.types ?? null,
      options.excludeTypes ?? [],
    ])
    // UPDATE ... RETURNING keeps no order: put them back in claim order.
    rows.sort(
      (a, b) =>
        a.run_at.getTime() - b.run_at.getTime() || Number(a.seq) - Number(b.seq),
    )
    return rows.map((row) => ({
      job: toJob(row),
      lease: { id: row.id, owner, attempt: row.attempts },
    }))
  }

  async heartbeat(
    leases: readonly Lease[],
    leaseMs: number,
  ): Promise<HeldLease[]> {
    if (leases.length === 0) return []
    const rows = await this.#query<{ id: string; cancel_requested: boolean }>(
      'heartbeat',
      [
        leases.map((lease) => lease.id),
        leases.map((lease) => lease.owner),
        leases.map((lease) => lease.attempt),
        leaseMs,
      ],
    )
    return rows.map((row) => ({
      id: row.id,
      cancelRequested: row.cancel_requested,
    }))
  }

  /**
   * Finishes come in batches: one waits while the statement before it is
   * in flight (never on a timer), then all that waited go in one
   * statement (up to 100 a statement).
   */
  // #region finish
  finish(lease: Lease, outcome: Outcome): Promise<Job | undefined> {
    const values = finishValues(outcome)
    return new Promise((resolve, reject) => {
      this.#finishes.push({ lease, values, resolve, reject })
      if (!this.#finishing) void this.#sendFinishes()
    })
  }

  async #sendFinishes(): Promise<void> {
    this.#finishing = true
    while (this.#finishes.length > 0) {
      const batch = takeBatch(this.#finishes)
      try {
        const rows = await this.#finishMany(batch)
        const byId = new Map(rows.map((row) => [row.id, row]))
        for (const f of batch) {
          const row = byId.get(f.lease.id)
          f.resolve(row && toJob(row))
        }
      } catch {
        // One attempt's bad value must not fail the others: alone again,
        // each gets its own answer or its own error.
        await Promise.all(batch.map((f) => this.#finishOne(f)))
      }
    }
    this.#finishing = false
  }
  // #endregion finish

  #finishMany(batch: readonly PendingFinish[]): Promise<JobRow[]> {
    if (batch.length === 1) {
      const [{ lease, values }] = batch as [PendingFinish]
      return this.#query<JobRow>('finish', [lease.id, lease.owner, lease.attempt, ...values])
    }
    const column = (i: number) => batch.map((f) => f.values[i])
    return this.#query<JobRow>('finish-many', [
      batch.map((f) => f.lease.id),
      batch.map((f) => f.lease.owner),
      batch.map((f) => f.lease.attempt),
      column(0),
      column(1),
      column(2),
      column(3),
    ])
  }

  async #finishOne(f: PendingFinish): Promise<void> {
    try {
      const [row] = await this.#finishMany([f])
      f.resolve(row && toJob(row))
    } catch (error) {
      f.reject(error)
    }
  }

  async requestCancel(id: string): Promise<CancelRequest> {
    if (!isUuid(id)) return { outcome: 'missing' }
    type Row = JobRow & { previous_status: JobStatus }
    const [row] = await this.#query<Row>('request-cancel', [id])
    if (row === undefined) {
      const job = await this.get(id)
      return job ? { outcome: 'finished', job } : { outcome: 'missing' }
    }
    if (row.previous_status !== 'processing') {
      return { outcome: 'canceled', job: toJob(row) }
    }
    // Tells the instance that runs it at once; its heartbeat would too.
    await this.#query('notify-cancel', [id])
    return { outcome: 'requested', job: toJob(row) }
  }

  async rescue(policy: RescuePolicy): Promise<Rescued[]> {
    type Row = Omit<Rescued, 'attempt'> & { attempts: number }
    const rows = await this.#query<Row>('rescue', [
      policy.baseMs,
      policy.maxMs,
      policy.all === true,
    ])
    return rows.map(({ id, type, attempts, status, owner }) => ({
      id,
      type,
      attempt: attempts,
      status,
      owner,
    }))
  }

  async prune(policy: PrunePolicy): Promise<number> {
    const result = await this.#run('prune', [policy.olderThanMs, policy.keep])
    return result.rowCount ?? 0
  }

  async countWaiting(upTo: number): Promise<number> {
    const [row] = await this.#query<{ n: number }>('count-waiting', [upTo])
    return row?.n ?? 0
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0]))
    const rows = await this.#query<{ status: JobStatus; n: number }>(
      'count-by-status',
      [],
    )
    for (const { status, n } of rows) counts[status] = n
    return counts as Record<JobStatus, number>
  }

  async ping(): Promise<void> {
    await this.#run(undefined, [], 'SELECT 1')
  }

  close(): Promise<void> {
    return (this.#closed ??= this.#pool.end())
  }

  async #query<Row>(name: string, values: unknown[]): Promise<Row[]> {
    return (await this.#run(name, values)).rows as Row[]
  }

  async #run(
    name: string | undefined,
    values: unknown[],
    text = statements.get(name!)!,
  ): Promise<pg.QueryResult> {
    try {
      return await this.#pool.query(
        name === undefined ? { text, values } : { name, text, values },
      )
    } catch (error) {
      throw unavailable(error)
    }
  }
}

/** A finish waiting for its statement. */
interface PendingFinish {
  readonly lease: Lease
  readonly values: FinishValues
  resolve(job: Job | undefined): void
  reject(error: unknown): void
}

type FinishValues = [JobStatus, string | null, number | null, 0 | 1]

/** The most attempts one statement finishes. */
const MAX_FINISH_BATCH = 100

/**
 * Takes the next batch off `pending`: up to `MAX_FINISH_BATCH`, stopping
 * before a job already in it (its second finish must see the first's
 * effect, so it waits for the next statement).
 */
function takeBatch(pending: PendingFinish[]): PendingFinish[] {
  const ids = new Set<string>()
  let n = 0
  while (n < pending.length && n < MAX_FINISH_BATCH) {
    const id = (pending[n] as PendingFinish).lease.id
    if (ids.has(id)) break
    ids.add(id)
    n++
  }
  return pending.splice(0, n)
}

function finishValues(outcome: Outcome): FinishValues {
  switch (outcome.kind) {
    case 'completed':
    case 'canceled':
      return [outcome.kind, null, null, 0]
    case 'failed':
      return ['failed', storableText(outcome.error), null, 0]
    case 'retry':
      return ['retrying', storableText(outcome.error), outcome.delayMs, 0]
    case 'interrupted':
      return ['pending', storableText(outcome.reason), 0, 1]
  }
}

function toJob(row: JobRow): Job {
  return Object.freeze({
    id: row.id,
    type: row.type,
    payload: deepFreeze(row.payload),
    status: row.status,
    attempts: row.attempts,
    max_retries: row.max_retries,
    timeout_ms: row.timeout_ms,
    last_error: row.last_error,
    run_at: row.run_at.toISOString(),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  })
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function isUuid(id: string): boolean {
  return UUID.test(id)
}


/** Connection failures (refused, reset, timed out, server shut down). */
function unavailable(error: unknown): unknown {
  const code = String((error as { code?: unknown }).code ?? '')
  const message = messageOf(error)
  const lost =
    /^(ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|08|57P0)/.test(code) ||
    /Connection terminated|timeout exceeded when trying to connect/i.test(message)
  return lost ? new StoreUnavailableError(message, { cause: error }) : error
}
