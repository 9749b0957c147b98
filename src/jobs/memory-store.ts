/**
 * A `JobStore` in a `Map`, for one process. It keeps every unfinished job
 * and at most `retention` finished ones, evicting the job that finished
 * longest ago first. It outlives nothing: a restart starts it empty.
 */
import { randomUUID } from 'node:crypto'
import {
  isFinished,
  newJob,
  transition,
  type Job,
  type JobStatus,
  type NewJob,
  type NextStatus,
  type TransitionChanges,
} from './job.ts'
import type { JobFilter, JobStore } from './store.ts'

/** Options of `MemoryStore`; the defaults suit production. */
export interface MemoryStoreOptions {
  /** How many finished jobs to keep (default 10,000). */
  readonly retention?: number
  /** The clock (tests pass a fixed one). */
  readonly now?: () => Date
  /** Makes job ids (default: random UUIDs). */
  readonly newId?: () => string
}

/** The in-memory `JobStore`. Safe on one event loop without a lock. */
export class MemoryStore implements JobStore {
  readonly retention: number
  // A Map iterates in insertion order, and replacing a value keeps its
  // place: iteration order is creation order.
  readonly #jobs = new Map<string, Job>()
  // Ids of finished jobs, oldest finish first (a Set keeps that order).
  readonly #finished = new Set<string>()
  readonly #now: () => Date
  readonly #newId: () => string

  constructor(options: MemoryStoreOptions = {}) {
    const retention = options.retention ?? 10_000
    if (!Number.isSafeInteger(retention) || retention < 0) {
      throw new RangeError(
        `Expected \`retention\` to be an integer from 0 and up, ` +
          `got \`${String(retention)}\``,
      )
    }
    this.retention = retention
    this.#now = options.now ?? (() => new Date())
    this.#newId = options.newId ?? randomUUID
  }

  async create(input: NewJob): Promise<Job> {
    const job = newJob(input, this.#newId(), this.#now())
    this.#jobs.set(job.id, job)
    return job
  }

  async get(id: string): Promise<Job | undefined> {
    return this.#jobs.get(id)
  }

  async list(filter: JobFilter = {}): Promise<Job[]> {
    const jobs = [...this.#jobs.values()]
    const { status } = filter
    return status === undefined ? jobs : jobs.filter((j) => j.status === status)
  }

  // #region compare-and-set
  async transition<From extends JobStatus>(
    id: string,
    from: From,
    to: NextStatus<From>,
    changes?: TransitionChanges,
  ): Promise<Job | undefined> {
    const job = this.#jobs.get(id)
    if (job?.status !== from) return undefined
    // No `await` between the check above and the set below: no other task
    // can run in between, so no other caller can see the old status.
    const current = job as Job & { status: From }
    const next = transition(current, to, this.#now(), changes)
    this.#save(next)
    return next
  }
  // #endregion compare-and-set

  async delete(id: string): Promise<boolean> {
    this.#finished.delete(id)
    return this.#jobs.delete(id)
  }

  /** How many jobs it holds, finished or not. */
  get size(): number {
    return this.#jobs.size
  }

  // #region retention
  #save(job: Job): void {
    this.#jobs.set(job.id, job)
    if (!isFinished(job.status)) return
    this.#finished.add(job.id)
    // Only finished jobs are evicted: pending and running ones stay.
    for (const oldest of this.#finished) {
      if (this.#finished.size <= this.retention) break
      this.#finished.delete(oldest)
      this.#jobs.delete(oldest)
    }
  }
  // #endregion retention
}
