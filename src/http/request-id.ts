/**
 * The request id: one string that ties together the answer to a request
 * and every log line written about it. The server takes the client's
 * `X-Request-Id` when it is sane (a proxy or a caller may already have
 * one) and makes a UUID otherwise, and echoes it in the answer.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'

/** The header that carries it, both ways. */
export const REQUEST_ID_HEADER = 'X-Request-Id'

// #region sane-id
// Short, and nothing a log line or a terminal could trip on: no spaces,
// quotes, commas (two headers joined), or control characters.
const SANE_ID = /^[\w.:=-]{1,128}$/

/** The client's id when it is sane, else a new UUID. */
export function requestIdFrom(
  header: string | string[] | undefined,
): string {
  const sane = typeof header === 'string' && SANE_ID.test(header)
  return sane ? header : randomUUID()
}
// #endregion sane-id

const ids = new WeakMap<IncomingMessage, string>()

/** Gives `request` its id (the server does, before the app sees it). */
export function assignRequestId(request: IncomingMessage): string {
  const id = requestIdFrom(request.headers['x-request-id'])
  ids.set(request, id)
  return id
}

/**
 * The id of the request a Hono handler is answering, or undefined when it
 * did not come through `createHttpServer` (`app.request()` in a test).
 */
export function requestIdOf(c: Context): string | undefined {
  const env = c.env as { incoming?: IncomingMessage } | undefined
  return env?.incoming === undefined ? undefined : ids.get(env.incoming)
}
