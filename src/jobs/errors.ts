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
 * Too many jobs wait already (`JOB_QUEUE_CAPACITY`), so this one was not
 * accepted (and not kept). The caller should try again later; nothing
 * waits on its behalf.
 */
export class QueueFullError extends Error {
  override name = 'QueueFullError'
  constructor(readonly capacity: number) {
    super(`too many jobs waiting (at most ${capacity}); retry later`)
  }
}

/**
 * The memory store's byte budget is spent on jobs that have not finished:
 * this one was not kept. Finished jobs are dropped before this is thrown.
 */
export class StoreFullError extends Error {
  override name = 'StoreFullError'
  constructor(readonly budgetBytes: number) {
    super(`job store is full (${budgetBytes} bytes of payloads); retry later`)
  }
}

/**
 * An `Idempotency-Key` came back with another request than the one that
 * first used it: the job it names was made from different input.
 */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError'
  constructor(readonly key: string) {
    super(
      `Idempotency-Key "${key}" was already used with a different request`,
    )
  }
}

/**
 * The reason a job's signal carries when its lease was lost: the store no
 * longer lets this attempt write, because a rescue gave the job back.
 */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError'
  constructor(readonly id: string) {
    super(`lease on job ${id} was lost`)
  }
}

/**
 * The store cannot be reached (the database is down or out of
 * connections): the request may succeed later, unchanged.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
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
 * (`completed`, `failed`, `canceled`).
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

/**
 * The reason a job's signal carries when the service stops it (a stop's
 * deadline, or a second signal): the attempt is given back, not failed.
 */
export class JobInterruptedError extends Error {
  override name = 'JobInterruptedError'
}

/** The reason a job's signal carries when a client canceled it. */
export class JobCanceledError extends Error {
  override name = 'JobCanceledError'
  constructor(readonly id: string) {
    super(`job ${id} was canceled`)
  }
}

// #region message-of
/**
 * The message of anything thrown, never throwing itself: a handler may
 * reject with a string, `null`, an object with no prototype (which
 * `String()` cannot print), or an error whose `message` getter throws.
 */
export function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) return String(error.message)
    return String(error)
  } catch {
    return 'a thrown value that cannot be printed'
  }
}
// #endregion message-of
