/**
 * Accepting a job: check it, store it, wake the fetcher, return. Storing
 * it is enqueuing it: once the insert has committed, the job is the
 * store's to keep and any instance's to claim. Nothing waits for the job
 * to run, and nothing waits for room: a full backlog is the caller's
 * answer (429), not the caller's wait.
 */
import type { Backlog } from './backlog.ts'
import { NotAcceptingJobsError, QueueFullError } from './errors.ts'
import type { JobEvents } from './events.ts'
import type { HandlerRegistry } from './handlers.ts'
import type { NewJob } from './job.ts'
import type { Created, CreateOptions, JobStore } from './store/contract.ts'

/** What `submitJob` needs. */
export interface SubmitDeps {
  readonly store: JobStore
  readonly handlers: HandlerRegistry
  /** Refuses new jobs once this many wait (`JOB_QUEUE_CAPACITY`). */
  readonly backlog?: Backlog | undefined
  /** Aborted when the service stops taking jobs. */
  readonly stopping?: AbortSignal | undefined
  /** Hears `job_created`. */
  readonly events?: JobEvents | undefined
  /** Tells this instance's fetcher that a job is there to claim. */
  readonly wake?: (() => void) | undefined
  /** A job's `timeout_ms` when it gives none (`JOB_TIMEOUT_MS`). */
  readonly defaultTimeoutMs?: number | undefined
}

/** What a submit may carry besides the job. */
export interface SubmitOptions extends CreateOptions {
  /** The request's `X-Request-Id`, for the `job_created` line. */
  readonly requestId?: string | undefined
}

/**
 * Stores a new job, claimable at once, and returns it. Throws
 * `UnknownJobTypeError` or `InvalidPayloadError` for a bad job,
 * `QueueFullError` when the backlog is full, `NotAcceptingJobsError`
 * while stopping; in each of those cases nothing is stored. With an
 * idempotency key already used, returns the first job (`created: false`).
 */
// #region submit
export async function submitJob(
  deps: SubmitDeps,
  input: NewJob,
  options: SubmitOptions = {},
): Promise<Created> {
  const { store, handlers, backlog, stopping, events } = deps
  if (stopping?.aborted) throw new NotAcceptingJobsError()
  handlers.check(input)
  if (backlog && (await backlog.isFull())) {
    throw new QueueFullError(backlog.capacity)
  }
  const { type, payload, max_retries } = input
  const timeout_ms = input.timeout_ms ?? deps.defaultTimeoutMs
  const job = { type, payload, max_retries, timeout_ms }
  const created = await store.create(job, options)
  if (created.created) {
    const { id: job_id } = created.job
    const request_id = options.requestId
    events?.emit('job_created', { job_id, type, request_id })
    backlog?.added()
    deps.wake?.()
  }
  return created
}
// #endregion submit
