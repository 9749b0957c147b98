/**
 * The one place where errors become HTTP answers. Every error answer is
 * JSON `{"error": "..."}` with a message meant for the client; none
 * carries a stack trace, and an unexpected error says only that it
 * happened (the details go to the `onUnexpected` callback, e.g. a log).
 */
import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import {
  IdempotencyConflictError,
  InvalidPayloadError,
  JobNotCancelableError,
  JobNotFoundError,
  NotAcceptingJobsError,
  QueueFullError,
  StoreFullError,
  StoreUnavailableError,
  TimeoutTooLongError,
  UnknownJobTypeError,
} from '../jobs/errors.ts'

/** A request the HTTP layer itself refuses, with the status to answer. */
export class RequestError extends Error {
  override name = 'RequestError'
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
  ) {
    super(message)
  }
}

/** How many seconds a client told `429` should wait before retrying. */
export const RETRY_AFTER_SECONDS = 1

const RETRY_AFTER = { 'Retry-After': String(RETRY_AFTER_SECONDS) }

// #region status-codes
/** The status code for each error a caller of the domain must handle. */
type ErrorClass = new (...args: never[]) => Error
const STATUS_BY_ERROR: [ErrorClass, ContentfulStatusCode, string?][] = [
  [UnknownJobTypeError, 400],
  [InvalidPayloadError, 400],
  [TimeoutTooLongError, 400],
  [JobNotFoundError, 404],
  [JobNotCancelableError, 409],
  [IdempotencyConflictError, 422],
  [QueueFullError, 429],
  [NotAcceptingJobsError, 503],
  // Its message names the database's address: not for clients.
  [StoreUnavailableError, 503, 'job store unreachable; retry later'],
  [StoreFullError, 507],
]
// #endregion status-codes

// #region error-response
/** Turns any error into its JSON answer (500 for anything unexpected). */
export function errorResponse(
  error: unknown,
  c: Context,
  onUnexpected: (error: unknown) => void,
): Response {
  if (error instanceof RequestError || error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode
    return c.json({ error: error.message }, status)
  }
  for (const [type, status, publicMessage] of STATUS_BY_ERROR) {
    if (!(error instanceof type)) continue
    const message = publicMessage ?? error.message
    const busy = status === 429 || status === 503 || status === 507
    return c.json({ error: message }, status, busy ? RETRY_AFTER : {})
  }
  // The client left mid-body: its doing, and no one reads this answer.
  if (clientLeft(c)) return c.json({ error: 'request incomplete' }, 400)
  onUnexpected(error)
  return c.json({ error: 'internal server error' }, 500)
}
// #endregion error-response

/** Whether the client closed the connection before its request was all in. */
function clientLeft(c: Context): boolean {
  const env = c.env as { incoming?: IncomingMessage } | undefined
  const incoming = env?.incoming
  return incoming !== undefined && incoming.destroyed && !incoming.complete
}
