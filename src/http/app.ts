/**
 * The HTTP API as a Hono app. It holds no state: jobs live in the store,
 * work goes through the queue. `createApp` opens no socket, so tests call
 * `app.request()` directly; `service.ts` serves it through
 * `createHttpServer` (`server.ts`), which sets the limits, the request id
 * and the token check.
 */
import type { IncomingMessage } from 'node:http'
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { methodNotAllowed } from 'hono/method-not-allowed'
import { cancelJob, RunningJobs } from '../jobs/cancel.ts'
import { JobNotFoundError } from '../jobs/errors.ts'
import type { JobEvents } from '../jobs/events.ts'
import type { HandlerRegistry } from '../jobs/handlers.ts'
import { DEFAULT_TIMEOUT_MS } from '../jobs/job.ts'
import type { JobMetrics } from '../jobs/metrics.ts'
import type { JobQueue } from '../jobs/queue.ts'
import type { JobStore } from '../jobs/store.ts'
import { submitJob } from '../jobs/submit.ts'
import { errorResponse, RequestError } from './errors.ts'
import { requestIdOf } from './request-id.ts'
import {
  MAX_BODY_BYTES,
  MAX_PAYLOAD_BYTES,
  parseNewJob,
  parseStatusFilter,
  queryParams,
  requireJsonContentType,
} from './validation.ts'

/** What the routes need. */
export interface AppDeps {
  readonly store: JobStore
  readonly queue: JobQueue
  readonly handlers: HandlerRegistry
  /**
   * Aborted when the service stops taking jobs: `POST /jobs` and
   * `GET /ready` answer 503.
   */
  readonly stopping?: AbortSignal | undefined
  /** Where job creation and cancels are reported (logs, metrics). */
  readonly events?: JobEvents | undefined
  /** The workers' cancel switches (the pool's), for `POST /jobs/:id/cancel`. */
  readonly running?: RunningJobs | undefined
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
  const running = deps.running ?? new RunningJobs()
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
  // as a stop begins, while /health (liveness: "don't restart me") stays 200.
  app.get('/ready', (c) =>
    deps.stopping?.aborted
      ? c.json({ error: 'service stopping' }, 503)
      : c.json({ status: 'ready' }),
  )
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
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new RequestError(413, `body larger than ${maxBodyBytes} bytes`)
      },
    }),
    async (c) => {
      const input = parseNewJob(await c.req.text(), maxPayloadBytes)
      // A type may cap the time limit; the default respects the cap.
      const timeout = handlers.defaultTimeoutMs(input.type, defaultTimeoutMs)
      const submit = { ...deps, defaultTimeoutMs: timeout }
      const job = await submitJob(submit, input)
      return c.json(job, 201, { Location: `/jobs/${job.id}` })
    },
  )
  // #endregion post-jobs

  app.get('/jobs', async (c) => {
    const query = queryParams(c.req.url, ['status'])
    const status = parseStatusFilter(query['status'])
    return c.json(await store.list({ status }))
  })

  app.get('/jobs/:id', async (c) => {
    const id = c.req.param('id')
    const job = await store.get(id)
    if (job === undefined) throw new JobNotFoundError(id)
    return c.json(job)
  })

  // #region cancel
  app.post('/jobs/:id/cancel', async (c) => {
    const id = c.req.param('id')
    const { outcome, job } = await cancelJob({ ...deps, running }, id)
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

/** Whether the request `c` answers has a body that has not all arrived. */
function bodyUnread(c: Context): boolean {
  const env = c.env as { incoming?: IncomingMessage } | undefined
  return env?.incoming !== undefined && !env.incoming.complete
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
