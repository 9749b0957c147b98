/**
 * The worker pool: `size` workers sharing one queue (fan-out). The queue
 * hands each id to one receiver and the store's claim lets one worker run
 * each job, so every job runs once, whichever worker takes it.
 */
import { TaskGroup } from '../concurrency/task.ts'
import { RunningJobs } from './cancel.ts'
import { runWorker, type WorkerOptions } from './worker.ts'

/** What a pool needs: the workers' options, less what the pool gives each. */
export interface PoolOptions
  extends Omit<WorkerOptions, 'name' | 'signal' | 'jobSignal'> {
  /** How many workers (`WORKER_COUNT`). */
  readonly size: number
}

// #region pool
/** A running group of workers, and the two ways to stop them. */
export class WorkerPool {
  readonly size: number
  /** The cancel switches of the jobs its workers hold (for `cancelJob`). */
  readonly running: RunningJobs
  readonly #workers = new TaskGroup()
  readonly #jobs = new AbortController()

  /** Starts `size` workers on `options.queue`. */
  constructor(options: PoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) {
      throw new RangeError(
        'Expected `size` to be an integer from 1 and up, ' +
          `got \`${options.size}\``,
      )
    }
    this.size = options.size
    this.running = options.running ?? new RunningJobs()
    const shared = { ...options, running: this.running }
    const jobSignal = this.#jobs.signal
    for (let i = 1; i <= options.size; i++) {
      const name = `worker-${i}`
      this.#workers.spawn(name, (signal) =>
        runWorker({ ...shared, name, signal, jobSignal }),
      )
    }
  }

  /** Workers take no new job; each finishes the one it holds. No wait. */
  stopTaking(reason?: unknown): void {
    this.#workers.abort(reason)
  }

  /** Aborts the signals of the jobs running now. No wait. */
  abortJobs(reason?: unknown): void {
    this.#jobs.abort(reason)
  }

  /** Resolves when every worker has returned; rejects if one failed. */
  wait(): Promise<void> {
    return this.#workers.wait()
  }
}
// #endregion pool
