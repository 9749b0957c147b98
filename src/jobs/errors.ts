/**
 * The errors a caller of the job domain must handle. Each has a `name`, and
 * the HTTP layer maps each to a status code in one place
 * (`src/http/errors.ts`); nothing here knows about HTTP.
 */

/** The job's `type` names no registered handler. */
export class UnknownJobTypeError extends Error {
  override name = 'UnknownJobTypeError'
  constructor(
    readonly type: string,
    readonly known: readonly string[],
  ) {
    super(`unknown job type "${type}"; known types: ${known.join(', ')}`)
  }
}

/** The payload does not suit the job's type (its handler says why). */
export class InvalidPayloadError extends Error {
  override name = 'InvalidPayloadError'
}

/** The job asks for a longer `timeout_ms` than its type allows. */
export class TimeoutTooLongError extends Error {
  override name = 'TimeoutTooLongError'
  constructor(
    readonly type: string,
    readonly maxTimeoutMs: number,
  ) {
    super(`timeout_ms of a ${type} job must be at most ${maxTimeoutMs}`)
  }
}

/** No job has this id (it never existed, or retention evicted it). */
export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError'
  constructor(readonly id: string) {
    super(`job ${id} not found`)
  }
}

/**
 * The queue had no room, so the job was not accepted (and not kept). The
 * caller should try again later; nothing waits on its behalf.
 */
export class QueueFullError extends Error {
  override name = 'QueueFullError'
  constructor(readonly capacity: number) {
    super(`job queue is full (capacity ${capacity}); retry later`)
  }
}

/** The service is stopping and takes no new jobs. */
export class NotAcceptingJobsError extends Error {
  override name = 'NotAcceptingJobsError'
  constructor() {
    super('the service is stopping and accepts no new jobs')
  }
}

/**
 * A cancel request for a job that cannot be canceled: it has finished
 * (`completed`, `failed`, `canceled`), or it is `processing` but no worker
 * of this service holds it.
 */
export class JobNotCancelableError extends Error {
  override name = 'JobNotCancelableError'
  /** `why` completes "cannot be canceled: ...", e.g. "it is completed". */
  constructor(
    readonly id: string,
    why: string,
  ) {
    super(`job ${id} cannot be canceled: ${why}`)
  }
}

/** The reason a job's signal carries when its attempt ran out of time. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError'
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`)
  }
}

/** The reason a job's signal carries when a client canceled it. */
export class JobCanceledError extends Error {
  override name = 'JobCanceledError'
  constructor(readonly id: string) {
    super(`job ${id} was canceled`)
  }
}
