/**
 * Backpressure for a queue that is a table: `POST /jobs` refuses a job
 * (429) once `capacity` jobs wait. Counting the waiting rows for every
 * request would make every request pay for the backlog's length, so the
 * count is read at most once per `refreshMs`, bounded at `capacity + 1`
 * rows, and the jobs created here since are added to it.
 *
 * The bound is approximate by design: between two reads, another
 * instance's jobs are not seen, and jobs that ended are still counted.
 */
import type { JobStore } from './store/contract.ts'

/** Options of {@link Backlog}. */
export interface BacklogOptions {
  readonly store: Pick<JobStore, 'countWaiting'>
  /** How many waiting jobs make the backlog full (`JOB_QUEUE_CAPACITY`). */
  readonly capacity: number
  /** How old a count may be before it is read again (ms, default 100). */
  readonly refreshMs?: number | undefined
  /** The clock, in ms (default `performance.now`). */
  readonly now?: (() => number) | undefined
}

/** The waiting jobs, counted cheaply enough to ask on every request. */
export class Backlog {
  readonly capacity: number
  readonly #options: BacklogOptions
  #count = 0
  #readAt = Number.NEGATIVE_INFINITY
  #reading: Promise<number> | undefined

  constructor(options: BacklogOptions) {
    this.capacity = options.capacity
    this.#options = options
  }

  // #region backlog
  /** Whether `capacity` jobs wait, as far as the last count knows. */
  async isFull(): Promise<boolean> {
    return (await this.estimate()) >= this.capacity
  }

  /** The last count plus the jobs created here since; reads if stale. */
  async estimate(): Promise<number> {
    const { refreshMs = 100, now = () => performance.now() } = this.#options
    if (now() - this.#readAt >= refreshMs) {
      // Concurrent requests share one read.
      this.#reading ??= this.#read(now).finally(() => {
        this.#reading = undefined
      })
      await this.#reading
    }
    return this.#count
  }

  /** A job was created here: count it until the next read. */
  added(): void {
    this.#count += 1
  }
  // #endregion backlog

  async #read(now: () => number): Promise<number> {
    const { store, capacity } = this.#options
    this.#count = await store.countWaiting(capacity + 1)
    this.#readAt = now()
    return this.#count
  }
}
