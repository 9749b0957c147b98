/**
 * The store contract kept in a `Map`, for tests and demos. It keeps
 * nothing across a restart (`durable` is false): a stop drops every job
 * that has not finished. Time comes from an injected clock, so a test can
 * make leases expire and retries fall due without waiting.
 *
 * Every method does its whole change with no `await` in between: on one
 * event loop nothing else runs meanwhile, which is what makes each one
 * atomic here (the database gets the same from a single statement).
 */
import { randomUUID } from 'node:crypto'
import { IdempotencyConflictError, StoreFullError } from '../errors.ts'
import {
  isFinished,
  isoString,
  newJob,
  storableText,
  transition,
  type Job,
  type JobStatus,
  JOB_STATUSES,
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
import { backoffDelay } from '../retry.ts'

/** Options of `MemoryStore`. */
export interface MemoryStoreOptions {
  /** The clock (tests pass a fake one; default: the real one). */
  readonly now?: () => Date
  /** Makes job ids (default: random UUIDs). */
  readonly newId?: () => string
  /** The random numbers of a rescue's jitter (default `Math.random`). */
  readonly random?: () => number
  /**
   * The most bytes of payload (as JSON) kept at once; finished jobs are
   * dropped first, oldest first, to make room (default 64 MiB).
   */
  readonly budgetBytes?: number
}

/** What the store knows of a job besides the job itself. */
interface Entry {
  job: Job
  readonly seq: number
  readonly bytes: number
  /** Milliseconds since the epoch; when the job may be claimed. */
  runAt: number
  owner?: string | undefined
  leaseExpiresAt?: number | undefined
  cancelRequested: boolean
  finishedAt?: number | undefined
  readonly idempotency?: { readonly key: string; readonly digest: string }
}

/** The in-memory `JobStore`. Safe on one event loop without a lock. */
export class MemoryStore implements JobStore {
  readonly durable = false
  readonly budgetBytes: number
  // A Map iterates in insertion order: creation order.
  readonly #entries = new Map<string, Entry>()
  // Claimable jobs: pending ones in the order they became pending (their
  // `run_at` order), retrying ones apart (each has its own `run_at`).
  readonly #pending = new Set<string>()
  readonly #retrying = new Set<string>()
  // Finished jobs, oldest finish first, for pruning.
  readonly #finished = new Set<string>()
  readonly #byKey = new Map<string, string>()
  readonly #now: () => Date
  readonly #newId: () => string
  readonly #random: () => number
  #seq = 0
  #bytes = 0

  constructor(options: MemoryStoreOptions = {}) {
    const budgetBytes = options.budgetBytes ?? 64 * 1024 * 1024
    if (!Number.isSafeInteger(budgetBytes) || budgetBytes < 0) {
      throw new RangeError(
        'Expected `budgetBytes` to be an integer from 0 and up, ' +
          `got \`${String(budgetBytes)}\``,
      )
    }
    this.budgetBytes = budgetBytes
    this.#now = options.now ?? (() => new Date())
    this.#newId = options.newId ?? randomUUID
    this.#random = options.random ?? Math.random
  }

  /** How many jobs it holds, finished or not. */
  get size(): number {
    return this.#entries.size
  }

  /** The bytes of payload it holds now. */
  get bytes(): number {
    return this.#bytes
  }

  async create(input: NewJob, options: CreateOptions = {}): Promise<Created> {
    const { idempotency } = options
    const earlier = idempotency && this.#byKey.get(idempotency.key)
    if (idempotency && earlier !== undefined) {
      const entry = this.#entries.get(earlier)!
      if (entry.idempotency?.digest !== idempotency.digest) {
        throw new IdempotencyConflictError(idempotency.key)
      }
      return { job: entry.job, created: false }
    }
    const now = this.#now()
    const job = newJob(input, this.#newId(), now)
    const bytes = Buffer.byteLength(JSON.stringify(job.payload))
    this.#makeRoom(bytes)
    const entry: Entry = {
      job,
      seq: ++this.#seq,
      bytes,
      runAt: now.getTime(),
      cancelRequested: false,
      ...(idempotency && { idempotency }),
    }
    this.#entries.set(job.id, entry)
    this.#bytes += bytes
    this.#pending.add(job.id)
    if (idempotency) this.#byKey.set(idempotency.key, job.id)
    return { job, created: true }
  }

  async get(id: string): Promise<Job | undefined> {
    return this.#entries.get(id)?.job
  }

  async list(query: ListQuery): Promise<JobPage> {
    const cursor = query.after ?? '0'
    if (!/^\d{1,18}$/.test(cursor)) return { jobs: [] }
    const after = Number(cursor)
    const maxBytes = query.maxBytes ?? Number.POSITIVE_INFINITY
    const jobs: Job[] = []
    let last = 0
    let bytes = 0
    for (const entry of this.#entries.values()) {
      if (entry.seq <= after) continue
      if (query.status !== undefined && entry.job.status !== query.status) {
        continue
      }
      const full = jobs.length === query.limit || bytes + entry.bytes > maxBytes
      if (full && jobs.length > 0) return { jobs, next: String(last) }
      jobs.push(entry.job)
      last = entry.seq
      bytes += entry.bytes
    }
    return { jobs }
  }

  async claim(
    owner: string,
    limit: number,
    leaseMs: number,
    options: ClaimOptions = {},
  ): Promise<ClaimedJob[]> {
    const now = this.#now().getTime()
    const wanted = (entry: Entry) =>
      (options.types === undefined || options.types.includes(entry.job.type)) &&
      !options.excludeTypes?.includes(entry.job.type)
    // #region claim
    // No await from here to the return: no other task runs in between.
    const due: Entry[] = []
    for (const id of this.#retrying) {
      const entry = this.#entries.get(id)!
      if (entry.runAt <= now && wanted(entry)) due.push(entry)
    }
    const chosen: Entry[] = []
    for (const id of this.#pending) {
      if (chosen.length === limit) break
      const entry = this.#entries.get(id)!
      if (wanted(entry)) chosen.push(entry)
    }
    // Pending jobs are already in `run_at` order; due retries join them.
    const order = due.length === 0 ? chosen : [...chosen, ...due].sort(byRunAt)
    const claimed: ClaimedJob[] = []
    const at = new Date(now)
    for (const entry of order.slice(0, limit)) {
      const job = entry.job as Job & { status: 'pending' | 'retrying' }
      this.#unqueue(entry)
      this.#save(entry, transition(job, 'processing', at))
      entry.owner = owner
      entry.leaseExpiresAt = now + leaseMs
      claimed.push({ job: entry.job, lease: leaseOf(entry) })
    }
    return claimed
    // #endregion claim
  }

  async heartbeat(
    leases: readonly Lease[],
    leaseMs: number,
  ): Promise<HeldLease[]> {
    const now = this.#now().getTime()
    const held: HeldLease[] = []
    for (const lease of leases) {
      const entry = this.#held(lease)
      if (entry === undefined) continue
      entry.leaseExpiresAt = now + leaseMs
      held.push({ id: lease.id, cancelRequested: entry.cancelRequested })
    }
    return held
  }

  // #region finish
  async finish(lease: Lease, outcome: Outcome): Promise<Job | undefined> {
    const entry = this.#held(lease)
    // Fenced: a lease that was rescued or claimed again writes nothing.
    if (entry === undefined) return undefined
    const job = entry.job as Job & { status: 'processing' }
    const now = this.#now()
    entry.owner = undefined
    entry.leaseExpiresAt = undefined
    entry.cancelRequested = false
    switch (outcome.kind) {
      case 'completed':
      case 'canceled':
        this.#save(entry, transition(job, outcome.kind, now), now)
        break
      case 'failed':
        this.#save(
          entry,
          transition(job, 'failed', now, {
            last_error: storableText(outcome.error),
          }),
        )
        break
      case 'retry':
        this.#retry(entry, now, outcome.delayMs, storableText(outcome.error))
        break
      case 'interrupted': {
        // Given back: this attempt does not count.
        const next = transition(job, 'pending', now, {
          last_error: storableText(outcome.reason),
          run_at: isoString(now),
        })
        this.#save(entry, { ...next, attempts: job.attempts - 1 })
        entry.runAt = now.getTime()
        this.#pending.add(job.id)
        break
      }
    }
    return entry.job
  }
  // #endregion finish

  async requestCancel(id: string): Promise<CancelRequest> {
    const entry = this.#entries.get(id)
    if (entry === undefined) return { outcome: 'missing' }
    const { job } = entry
    if (job.status === 'processing') {
      entry.cancelRequested = true
      return { outcome: 'requested', job }
    }
    if (job.status === 'pending' || job.status === 'retrying') {
      this.#unqueue(entry)
      const waiting = job as Job & { status: 'pending' | 'retrying' }
      this.#save(entry, transition(waiting, 'canceled', this.#now()))
      return { outcome: 'canceled', job: entry.job }
    }
    return { outcome: 'finished', job }
  }

  // #region rescue
  async rescue(policy: RescuePolicy): Promise<Rescued[]> {
    const now = this.#now()
    const rescued: Rescued[] = []
    for (const entry of this.#entries.values()) {
      const { job, owner, leaseExpiresAt } = entry
      if (job.status !== 'processing' || owner === undefined) continue
      const expired = leaseExpiresAt !== undefined && leaseExpiresAt < now.getTime()
      if (!expired && !policy.all) continue
      const held = job as Job & { status: 'processing' }
      const last_error = `lease expired: ${owner} stopped renewing it`
      entry.owner = undefined
      entry.leaseExpiresAt = undefined
      let status: Rescued['status']
      if (entry.cancelRequested) {
        status = 'canceled'
        this.#save(entry, transition(held, 'canceled', now, { last_error }))
      } else if (job.attempts <= job.max_retries) {
        status = 'retrying'
        const random = this.#random
        const delayMs = backoffDelay(job.attempts, { ...policy, random })
        this.#retry(entry, now, delayMs, last_error)
      } else {
        status = 'failed'
        this.#save(entry, transition(held, 'failed', now, { last_error }))
      }
      entry.cancelRequested = false
      rescued.push({ id: job.id, type: job.type, attempt: job.attempts, owner, status })
    }
    return rescued
  }
  // #endregion rescue

  async prune(policy: PrunePolicy): Promise<number> {
    const cutoff = this.#now().getTime() - policy.olderThanMs
    let pruned = 0
    for (const id of this.#finished) {
      const entry = this.#entries.get(id)!
      const tooMany = this.#finished.size > policy.keep
      if (!tooMany && entry.finishedAt! >= cutoff) break
      this.#delete(entry)
      pruned += 1
    }
    return pruned
  }

  async countWaiting(upTo: number): Promise<number> {
    return Math.min(upTo, this.#pending.size + this.#retrying.size)
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0]))
    for (const { job } of this.#entries.values()) counts[job.status]! += 1
    return counts as Record<JobStatus, number>
  }

  /** Jobs that have not finished: what a stop of this store loses. */
  get unfinished(): number {
    return this.#entries.size - this.#finished.size
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  /** The entry `lease` still holds, or undefined if it was lost. */
  #held(lease: Lease): Entry | undefined {
    const entry = this.#entries.get(lease.id)
    const holds =
      entry?.job.status === 'processing' &&
      entry.owner === lease.owner &&
      entry.job.attempts === lease.attempt
    return holds ? entry : undefined
  }

  #retry(entry: Entry, now: Date, delayMs: number, last_error: string): void {
    const job = entry.job as Job & { status: 'processing' }
    entry.runAt = now.getTime() + delayMs
    const run_at = isoString(new Date(entry.runAt))
    this.#save(entry, transition(job, 'retrying', now, { last_error, run_at }))
    this.#retrying.add(job.id)
  }

  #unqueue(entry: Entry): void {
    this.#pending.delete(entry.job.id)
    this.#retrying.delete(entry.job.id)
  }

  #save(entry: Entry, job: Job, now?: Date): void {
    entry.job = job
    if (isFinished(job.status)) {
      entry.finishedAt = (now ?? this.#now()).getTime()
      this.#finished.add(job.id)
    }
  }

  #delete(entry: Entry): void {
    const { id } = entry.job
    this.#entries.delete(id)
    this.#finished.delete(id)
    this.#unqueue(entry)
    this.#bytes -= entry.bytes
    if (entry.idempotency) this.#byKey.delete(entry.idempotency.key)
  }

  /** Drops finished jobs, oldest first, until `bytes` more fit. */
  #makeRoom(bytes: number): void {
    if (this.#bytes + bytes <= this.budgetBytes) return // the common case
    for (const id of this.#finished) {
      if (this.#bytes + bytes <= this.budgetBytes) break
      this.#delete(this.#entries.get(id)!)
    }
    if (this.#bytes + bytes > this.budgetBytes) {
      throw new StoreFullError(this.budgetBytes)
    }
  }
}

function leaseOf(entry: Entry): Lease {
  return { id: entry.job.id, owner: entry.owner!, attempt: entry.job.attempts }
}

function byRunAt(a: Entry, b: Entry): number {
  return a.runAt - b.runAt || a.seq - b.seq
}
