/**
 * Cancelling a job. A job that waits (`pending`, `retrying`) is canceled
 * in the store at once. A running job cannot be stopped from outside: the
 * store flags it, and its handler's signal is aborted, here at once if this
 * instance runs it, otherwise by its own instance (a notification, or at
 * the latest its next heartbeat). Its worker records `canceled` when the
 * handler has returned.
 */
import { JobCanceledError, JobNotCancelableError, JobNotFoundError } from './errors.ts'
import { jobFields, type JobEvents } from './events.ts'
import type { Job } from './job.ts'
import type { RunningJobs } from './running.ts'
import type { JobStore } from './store/contract.ts'

/** What `cancelJob` needs. */
export interface CancelDeps {
  readonly store: JobStore
  /** The attempts this instance holds. */
  readonly running: RunningJobs
  readonly events?: JobEvents | undefined
}

/** What a cancel did: `canceled` at once, or `canceling` a running job. */
export interface CancelResult {
  readonly outcome: 'canceled' | 'canceling'
  /** The job as it is now (still `processing` when `canceling`). */
  readonly job: Job
}

/**
 * Cancels job `id`. Throws `JobNotFoundError` for an unknown id, and
 * `JobNotCancelableError` for a finished job.
 */
// #region cancel-job
export async function cancelJob(
  deps: CancelDeps,
  id: string,
): Promise<CancelResult> {
  const { store, running, events } = deps
  const request = await store.requestCancel(id)
  switch (request.outcome) {
    case 'missing':
      throw new JobNotFoundError(id)
    case 'finished':
      throw new JobNotCancelableError(id, `it is ${request.job.status}`)
    case 'canceled': {
      const { job } = request
      events?.emit('job_canceled', {
        ...jobFields(job),
        attempt: job.attempts,
      })
      return { outcome: 'canceled', job }
    }
    case 'requested':
      // Held here: abort it now. Held elsewhere: its instance will.
      running.abort(id, new JobCanceledError(id))
      return { outcome: 'canceling', job: request.job }
  }
}
// #endregion cancel-job
