/**
 * The HTTP API as a Hono app. It holds no state: jobs live in the store,
 * work goes through the queue. `createApp` opens no socket, so tests call
 * `app.request()` directly; `service.ts` serves it through
 * `createHttpServer` (`server.ts`), which sets the limits, the request id
 * and the token check.
 */
import type { IncomingMessage } from 'node:http'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { methodNotAllowed } from 'hono/method-not-allowed'
import type { Backlog } from '../jobs/backlog.ts'
import { cancelJob } from '../jobs/cancel.ts'
import { JobNotFoundError } from '../jobs/errors.ts'
import type { JobEvents } from '../jobs/events.ts'
import type { HandlerRegistry } from '../jobs/handlers.ts'
import { DEFAULT_TIMEOUT_MS } from '../jobs/job.ts'
import type { JobMetrics } from '../jobs/metrics.ts'
import type { RunningJobs } from '../jobs/running.ts'
import type { JobStore } from '../jobs/store/contract.ts'
import { submitJob } from '../jobs/submit.ts'
import { errorResponse, RequestError } from './errors.ts'
import { requestIdOf } from './request-id.ts'
import {
  MAX_BODY_BYTES,
  MAX_PAYLOAD_BYTES,
  parseIdempotencyKey,
  parseListQuery,
  parseNewJob,
  queryParams,
  requestDigest,
  requireJsonContentType,
} from './validation.ts'

/** What the routes need. */
export interface AppDeps {
  readonly store: JobStore
  readonly handlers: HandlerRegistry
  /** The attempts this instance holds (a cancel aborts one here). */
  readonly running: RunningJobs
  /** Refuses new jobs once the backlog is full (429). */
  readonly backlog?: Backlog | undefined
  /** Tells this instance's fetcher that a job was created. */
  readonly wake?: (() => void) | undefined
  /**
   * Aborted when the service stops taking jobs: `POST /jobs` and
   * `GET /ready` answer 503.
   */
  readonly stopping?: AbortSignal | undefined
  /** Where job creation and cancels are reported (logs, metrics). */
  readonly events?: JobEvents | undefined
  /** What `GET /metrics` reads; without it, that route is a 404. */
  readonly metrics?: JobMetrics | undefined
  /** A job's `timeout_ms` when it gives none (`JOB_TIMEOUT_MS`). */
  readonly defaultTimeoutMs?: number | undefined
  /** The largest body accepted (default `MAX_BODY_BYTES`, 1 MiB). */
  readonly maxBodyBytes?: number
  /** The largest payload, as JSON (default `MAX_PAYLOAD_BYTES`, 64 KiB). */
  readonly maxPayloadBytes?: number
  /**
   * Hears about errors answered with a 500 (default: ignore), with the
   * fields that name the request in a log line.
   */
  readonly onUnexpectedError?: (error: unknown, request: RequestFields) => void
}

/** What names a request in a log line. */
export interface RequestFields {
  /** Its `X-Request-Id` (absent when it came through `app.request()`). */
  readonly request_id?: string | undefined
}

/** Builds the app: routes, validation, and errors mapped to status codes. */
export function createApp(deps: AppDeps): Hono {
  const { store, metrics, handlers, maxBodyBytes = MAX_BODY_BYTES } = deps
  const { maxPayloadBytes = MAX_PAYLOAD_BYTES } = deps
  const defaultTimeoutMs = deps.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS
  const onUnexpected = deps.onUnexpectedError ?? (() => {})
  const app = new Hono()

  // #region unread-body
  // An answer given before its request's body has been read to its end
  // (a 413, a 415...) closes the connection. Kept open, the rest of that
  // body would be drained, then cut off under the client's next request.
  app.use(async (c, next) => {
    await next()
    if (bodyUnread(c)) c.header('Connection', 'close')
  })
  // #endregion unread-body

  // A repeated or array-shaped parameter (`?status[]=x`) is an error on
  // every route, never silently ignored.
  app.use(async (c, next) => {
    queryParams(c.req.url)
    await next()
  })

  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        c.json({ error: `method ${c.req.method} not allowed` }, 405, {
          Allow: [...methods].sort().join(', '),
        }),
    }),
  )

  // #region health
  app.get('/health', (c) => c.json({ status: 'ok' }))
  // #endregion health

  // #region ready
  // Readiness, for a load balancer: "send me traffic". It turns 503 as soon
  // as a stop begins, or while the store cannot be reached; /health
  // (liveness: "don't restart me") stays 200.
  app.get('/ready', async (c) => {
    if (deps.stopping?.aborted) {
      return c.json({ error: 'service stopping' }, 503)
    }
    const reachable = await within(store.ping(), READY_TIMEOUT_MS)
    if (!reachable) return c.json({ error: 'store unreachable' }, 503)
    return c.json(
      store.durable
        ? { status: 'ready', store: 'postgres' }
        : { status: 'ready', store: 'memory', warning: MEMORY_WARNING },
    )
  })
  // #endregion ready

  // #region post-jobs
  app.post(
    '/jobs',
    async (c, next) => {
      requireJsonContentType(c.req.header('Content-Type'))
      await next()
    },
    // Refuses a body past the limit as soon as it is known to be too big:
    // at once from Content-Length, else while reading the stream.
    limitBody(maxBodyBytes),
    async (c) => {
      const input = parseNewJob(await c.req.text(), maxPayloadBytes)
      // A type may cap the time limit; the default respects the cap.
      const timeout = handlers.defaultTimeoutMs(input.type, defaultTimeoutMs)
      const key = parseIdempotencyKey(c.req.header('Idempotency-Key'))
      const idempotency = key && { key, digest: requestDigest(input) }
      const { job, created } = await submitJob(
        { ...deps, defaultTimeoutMs: timeout },
        input,
        { ...(idempotency && { idempotency }), requestId: requestIdOf(c) },
      )
      // 201 for a new job; 200 for the one this key made before.
      return c.json(job, created ? 201 : 200, { Location: `/jobs/${job.id}` })
    },
  )
  // #endregion post-jobs

  // #region list
  // A page at a time, in creation order; `Link: <...>; rel="next"` names
  // the next page while there may be one.
  app.get('/jobs', async (c) => {
    const query = parseListQuery(c.req.url)
    const page = await store.list({ ...query, maxBytes: MAX_PAGE_BYTES })
    const headers: Record<string, string> = {}
    if (page.next !== undefined) {
      const next = new URLSearchParams({ limit: String(query.limit) })
      if (query.status !== undefined) next.set('status', query.status)
      next.set('after', page.next)
      headers['Link'] = `</jobs?${next}>; rel="next"`
    }
    return c.json(page.jobs, 200, headers)
  })
  // #endregion list

  app.get('/jobs/:id', async (c) => {
    const id = c.req.param('id')
    const job = await store.get(id)
    if (job === undefined) throw new JobNotFoundError(id)
    return c.json(job)
  })

  // #region cancel
  app.post('/jobs/:id/cancel', async (c) => {
    const id = c.req.param('id')
    const { outcome, job } = await cancelJob(deps, id)
    // 200: canceled now. 202: its signal is aborted; it becomes
    // `canceled` when its handler returns.
    return c.json(job, outcome === 'canceled' ? 200 : 202)
  })
  // #endregion cancel

  // #region metrics
  if (metrics !== undefined) {
    app.get('/metrics', async (c) => {
      const { format } = queryParams(c.req.url, ['format'])
      if (wantsPrometheus(format, c.req.header('Accept'))) {
        const text = await metrics.prometheus()
        return c.body(text, 200, { 'Content-Type': metrics.contentType })
      }
      return c.json(await metrics.json())
    })
  }
  // #endregion metrics

  app.notFound((c) =>
    c.json({ error: `not found: ${c.req.method} ${c.req.path}` }, 404),
  )
  app.onError((error, c) =>
    errorResponse(error, c, (unexpected) =>
      onUnexpected(unexpected, { request_id: requestIdOf(c) }),
    ),
  )
  return app
}

// #region body-limit
/**
 * Refuses a body over `maxSize` bytes with a 413. A `Content-Length` is
 * checked from the header alone, and then `c.req.text()` reads the body
 * from Node's request (Node delivers no byte past that length). Only a
 * body without one goes through Hono's `bodyLimit`, which counts it as it
 * streams: that middleware reads `c.req.raw.body`, which makes the
 * adapter build a web `Request` and its streams, a profile's largest cost
 * of `POST /jobs` when every request paid it.
 */
function limitBody(maxSize: number): MiddlewareHandler {
  const tooLarge = () =>
    new RequestError(413, `body larger than ${maxSize} bytes`)
  const streamed = bodyLimit({
    maxSize,
    onError: () => {
      throw tooLarge()
    },
  })
  return async (c, next) => {
    const length = c.req.header('Content-Length')
    const chunked = c.req.header('Transfer-Encoding') !== undefined
    if (length === undefined || chunked) return streamed(c, next)
    if (Number.parseInt(length, 10) > maxSize) throw tooLarge()
    await next()
  }
}
// #endregion body-limit

/** Whether the request `c` answers has a body that has not all arrived. */
function bodyUnread(c: Context): boolean {
  const env = c.env as { incoming?: IncomingMessage } | undefined
  return env?.incoming !== undefined && !env.incoming.complete
}

/**
 * The most payload one page of `GET /jobs` carries (1 MiB): a page of big
 * payloads ends early, with a `Link` to the rest, so that no answer, and
 * no `JSON.stringify` of it, grows with what the store holds.
 */
export const MAX_PAGE_BYTES = 1024 * 1024

/** How long `GET /ready` waits for the store to answer. */
export const READY_TIMEOUT_MS = 2_000

/** What `GET /ready` says of the memory store. */
export const MEMORY_WARNING =
  'STORE=memory keeps nothing: a restart loses every job'

/** Whether `promise` resolved within `ms` (false if it rejected). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise.then(() => true, () => false), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Whether `GET /metrics` should answer Prometheus' text format: asked by
 * `?format=prometheus`, or by an `Accept` header naming `text/plain` or
 * OpenMetrics, as Prometheus' scraper sends. JSON otherwise (curl's
 * "any type", a browser's `text/html`...). Throws a `400` for another
 * format.
 */
export function wantsPrometheus(
  format: string | undefined,
  accept: string | undefined,
): boolean {
  if (format === 'prometheus') return true
  if (format === 'json') return false
  if (format !== undefined) {
    throw new RequestError(
      400,
      `unknown format "${format}"; known formats: json, prometheus`,
    )
  }
  return /\b(text\/plain|application\/openmetrics-text)\b/i.test(accept ?? '')
}
