/**
 * Accepting a job: check it, store it, put its id on the queue, return.
 * Nothing waits for the job to run, and nothing waits for room in the
 * queue: a full queue is the caller's answer, not the caller's wait.
 */
import { NotAcceptingJobsError, QueueFullError } from './errors.ts'
import { jobFields, type JobEvents } from './events.ts'
import type { HandlerRegistry } from './handlers.ts'
import type { Job, NewJob } from './job.ts'
import type { JobQueue } from './queue.ts'
import type { JobStore } from './store.ts'

/** What `submitJob` needs. */
export interface SubmitDeps {
  readonly store: JobStore
  readonly queue: JobQueue
  readonly handlers: HandlerRegistry
  /** Aborted when the service stops taking jobs (before the queue closes). */
  readonly stopping?: AbortSignal | undefined
  /** Hears `job_created` and `job_enqueued`. */
  readonly events?: JobEvents | undefined
  /** A job's `timeout_ms` when it gives none (`JOB_TIMEOUT_MS`). */
  readonly defaultTimeoutMs?: number | undefined
}

// #region submit
/**
 * Stores a new job and enqueues its id, without waiting for either the
 * job or room in the queue. Throws `UnknownJobTypeError` or
 * `InvalidPayloadError` for a bad job, `QueueFullError` when the queue has
 * no room, `NotAcceptingJobsError` while stopping; in every one of those
 * cases no job is left in the store.
 */
export async function submitJob(deps: SubmitDeps, input: NewJob): Promise<Job> {
  const { store, queue, handlers, stopping, events } = deps
  if (stopping?.aborted) throw new NotAcceptingJobsError()
  handlers.check(input)
  const timeout_ms = input.timeout_ms ?? deps.defaultTimeoutMs
  const job = await store.create({ ...input, timeout_ms })
  // Check and send with no `await` between: the queue cannot be closed in
  // between (the service closes it only after `stopping` aborts).
  if (!stopping?.aborted && queue.trySend(job.id)) {
    events?.emit('job_created', jobFields(job))
    events?.emit('job_enqueued', jobFields(job))
    return job
  }
  // Not enqueued: take the job back, or nothing would ever run it.
  await store.delete(job.id)
  if (stopping?.aborted) throw new NotAcceptingJobsError()
  throw new QueueFullError(queue.capacity)
}
// #endregion submit
