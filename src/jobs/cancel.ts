/**
 * Cancelling a job. A job that waits (`pending`, `retrying`) is canceled
 * in the store at once, and a worker that later receives its id skips it.
 * A running job cannot be stopped from outside: its signal is aborted, and
 * the worker records `canceled` when the handler has returned.
 */
import {
  JobCanceledError,
  JobNotCancelableError,
  JobNotFoundError,
} from './errors.ts'
import { jobFields, type JobEvents } from './events.ts'
import { hasStatus, type Job } from './job.ts'
import type { JobStore } from './store.ts'

// #region running-jobs
/**
 * The cancel switches of the jobs the workers hold, by job id. A worker
 * registers its switch before it claims a job, so whoever sees the job
 * `processing` in the store finds the switch here.
 */
export class RunningJobs {
  // A set per id: the same id may reach two workers (a re-enqueue); the
  // one whose claim fails removes its own switch, not the other's.
  readonly #switches = new Map<string, Set<AbortController>>()

  /** A new switch for job `id`; the caller must `release` it. */
  register(id: string): AbortController {
    const controller = new AbortController()
    const set = this.#switches.get(id) ?? new Set()
    set.add(controller)
    this.#switches.set(id, set)
    return controller
  }

  /** Forgets a switch `register` gave. */
  release(id: string, controller: AbortController): void {
    const set = this.#switches.get(id)
    set?.delete(controller)
    if (set?.size === 0) this.#switches.delete(id)
  }

  /** Aborts job `id`'s switches; returns whether a worker held it. */
  cancel(id: string): boolean {
    const set = this.#switches.get(id)
    if (set === undefined) return false
    for (const controller of set) controller.abort(new JobCanceledError(id))
    return true
  }

  /** How many switches are registered (0 once every worker is idle). */
  get size(): number {
    return this.#switches.size
  }
}
// #endregion running-jobs

/** What `cancelJob` needs. */
export interface CancelDeps {
  readonly store: JobStore
  readonly running: RunningJobs
  readonly events?: JobEvents | undefined
}

/** What a cancel did: `canceled` at once, or `canceling` a running job. */
export interface CancelResult {
  readonly outcome: 'canceled' | 'canceling'
  /** The job as it is now (still `processing` when `canceling`). */
  readonly job: Job
}

// #region cancel-job
/**
 * Cancels job `id`. A `pending` or `retrying` job becomes `canceled` now;
 * a `processing` one has its signal aborted, and becomes `canceled` when
 * its handler returns. Throws `JobNotFoundError` for an unknown id, and
 * `JobNotCancelableError` for a finished job.
 */
export async function cancelJob(
  deps: CancelDeps,
  id: string,
): Promise<CancelResult> {
  const { store, running, events } = deps
  // The job may move between our read and our write; then read again.
  // Each retry means the job moved forward, and it soon ends.
  let orphan = false
  for (let tries = 0; tries < 3; tries++) {
    const job = await store.get(id)
    if (job === undefined) throw new JobNotFoundError(id)
    orphan = false
    if (hasStatus(job, 'processing')) {
      if (running.cancel(id)) return { outcome: 'canceling', job }
      orphan = true
      continue // it may have ended since we read it: read again
    }
    if (hasStatus(job, 'pending') || hasStatus(job, 'retrying')) {
      const canceled = await store.transition(id, job.status, 'canceled')
      if (canceled === undefined) continue // a worker claimed it first
      const attempt = canceled.attempts
      events?.emit('job_canceled', { ...jobFields(canceled), attempt })
      return { outcome: 'canceled', job: canceled }
    }
    throw new JobNotCancelableError(id, `it is ${job.status}`)
  }
  // Still `processing` with no worker here: nothing of ours runs it (a
  // job another process left behind, say).
  const why = orphan ? 'no worker here holds it' : 'it keeps changing status'
  throw new JobNotCancelableError(id, why)
}
// #endregion cancel-job
