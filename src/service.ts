/**
 * The composition root: builds the store, the queue, the workers, the
 * sweeper, the thread pool, the logs, the metrics and the HTTP server from
 * a `Config`, starts them in order, and stops them in order. It is the
 * only module that sees every part; each long-lived part is a task it
 * owns, through a signal and a promise.
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Hono } from 'hono'
import type { Logger } from 'pino'
import { spawn, type Task } from './concurrency/task.ts'
import type { Config } from './config.ts'
import { createApp } from './http/app.ts'
import { createHttpServer } from './http/server.ts'
import { RunningJobs } from './jobs/cancel.ts'
import { hashJob } from './jobs/cpu/hash.ts'
import { createCpuPool, type CpuPool } from './jobs/cpu/pool.ts'
import { JobEvents } from './jobs/events.ts'
import { defaultHandlers, type HandlerRegistry } from './jobs/handlers.ts'
import { attachLogger, createLogger } from './jobs/log.ts'
import { MemoryStore } from './jobs/memory-store.ts'
import { createJobMetrics, type JobMetrics } from './jobs/metrics.ts'
import { WorkerPool } from './jobs/pool.ts'
import { createJobQueue, type JobQueue } from './jobs/queue.ts'
import type { RetryPolicy } from './jobs/retry.ts'
import type { JobStore } from './jobs/store.ts'
import { runSweeper } from './jobs/sweeper.ts'
import { feedQueue, recoverJobs } from './jobs/recovery.ts'
import { shutdown, type ShutdownReport } from './shutdown.ts'

/** What a service may be given instead of its defaults (tests use these). */
export interface ServiceOptions {
  /** Job types (default: `sleep`, `fail`, and `hash` on the thread pool). */
  readonly handlers?: HandlerRegistry
  readonly store?: JobStore
  /** A pino logger (default: JSON lines on stdout at `LOG_LEVEL`). */
  readonly logger?: Logger
  /** The threads for CPU-bound jobs (default: `CPU_POOL_SIZE` threads). */
  readonly cpuPool?: CpuPool
  /** The random numbers of the retry jitter (default `Math.random`). */
  readonly random?: () => number
  /** The clock of `run_at` and the sweeper (default: the real one). */
  readonly now?: () => Date
}

/** A job service: the API, the queue and the workers, started and stopped as one. */
export interface Service {
  /** The HTTP app (usable with `app.request()` without starting). */
  readonly app: Hono
  readonly store: JobStore
  readonly queue: JobQueue
  /** The job lifecycle events; logs and metrics listen to them. */
  readonly events: JobEvents
  readonly metrics: JobMetrics
  readonly logger: Logger
  /** Starts workers, sweeper, then HTTP; resolves with the URL it listens on. */
  start(): Promise<string>
  /**
   * Stops everything in order (see `shutdown.ts`) and reports how it went;
   * idempotent, bounded by `SHUTDOWN_TIMEOUT` plus `SHUTDOWN_GRACE`.
   * Aborting `hurry` (a second signal) makes the deadline pass at once.
   */
  stop(options?: { hurry?: AbortSignal | undefined }): Promise<ShutdownReport>
}

/** Builds a service from its configuration; nothing runs until `start()`. */
export function createService(config: Config, options: ServiceOptions = {}): Service {
  const logger = options.logger ?? createLogger({ level: config.logLevel })
  const log = (event: string, fields: Record<string, unknown> = {}) =>
    logger.info({ event, ...fields }, event.replaceAll('_', ' '))
  const store = options.store ?? new MemoryStore({ retention: config.retention })
  // Threads start on demand: a pool no job uses costs nothing.
  const cpuPool = options.cpuPool ?? createCpuPool({ size: config.cpuPoolSize })
  const handlers =
    options.handlers ?? defaultHandlers().register('hash', hashJob(cpuPool))
  const queue = createJobQueue(config.queueCapacity)
  const now = options.now ?? (() => new Date())
  const retry: RetryPolicy = {
    baseMs: config.retryBaseMs,
    maxMs: config.retryMaxMs,
    random: options.random ?? Math.random,
  }
  // #region observability
  const events = new JobEvents({
    onListenerError: (error) =>
      logger.warn({ event: 'listener_failed', ...errorFields(error) }),
  })
  attachLogger(events, logger)
  const metrics = createJobMetrics(events, {
    queueDepth: () => queue.length,
  })
  // #endregion observability
  const running = new RunningJobs()
  const stopping = new AbortController()
  const app = createApp({
    store,
    queue,
    handlers,
    events,
    running,
    metrics,
    defaultTimeoutMs: config.jobTimeoutMs,
    stopping: stopping.signal,
    onUnexpectedError: (error, request) => {
      const fields = { event: 'request_failed', ...request }
      logger.error({ ...fields, ...errorFields(error) })
    },
  })

  let pool: WorkerPool | undefined
  let feeder: Task<unknown> | undefined
  let sweeper: Task<void> | undefined
  let server: Server | undefined
  let starting: Promise<string> | undefined
  let stopped: Promise<ShutdownReport> | undefined

  // #region start
  async function startInOrder(): Promise<string> {
    // The store is built; recovery runs before any worker: jobs a previous
    // process left `processing` are `pending` again, and every pending id
    // is listed, however many there are.
    const recovered = await recoverJobs(store)
    log('recovered', { requeued: recovered.requeued, pending: recovered.ids.length })
    // Consumers before producers: the workers wait on the queue before the
    // feeder, the sweeper or any request can put a job on it.
    const jobs = { store, queue, events, now }
    const size = config.workerCount
    pool = new WorkerPool({ ...jobs, size, handlers, running, retry })
    // The feeder waits for room: recovery never needs more than the queue holds.
    feeder = feedQueue(queue, recovered.ids)
    const intervalMs = config.sweeperIntervalMs
    sweeper = spawn('sweeper', (signal) =>
      runSweeper({ ...jobs, intervalMs, signal }),
    )
    // HTTP last: by the time a request arrives, everything it needs runs.
    const http = createHttpServer(app, config.http, { logger })
    http.listen(config.port, config.host)
    await once(http, 'listening') // rejects on 'error' (port in use...)
    server = http
    const url = urlOf(http.address() as AddressInfo)
    log('listening', { url })
    return url
  }
  // #endregion start

  // #region stop
  function stopInOrder(hurry: AbortSignal | undefined): Promise<ShutdownReport> {
    return shutdown(
      {
        refuseNewWork: () => stopping.abort(new Error('service stopping')),
        server,
        producers: [feeder, sweeper].filter((task) => task !== undefined),
        queue,
        workers: pool,
        threads: cpuPool,
        store,
      },
      {
        timeoutMs: config.shutdownTimeoutMs,
        graceMs: config.shutdownGraceMs,
        hurry,
        log,
      },
    )
  }
  // #endregion stop

  return {
    app,
    store,
    queue,
    events,
    metrics,
    logger,
    start: () => {
      if (starting !== undefined) throw new Error('service already started')
      return (starting = startInOrder())
    },
    stop: (options = {}) => (stopped ??= stopInOrder(options.hurry)),
  }
}

function urlOf(address: AddressInfo): string {
  const wildcard = address.address === '0.0.0.0' || address.address === '::'
  const host = wildcard
    ? 'localhost'
    : address.family === 'IPv6'
      ? `[${address.address}]`
      : address.address
  return `http://${host}:${address.port}`
}

function errorFields(error: unknown): Record<string, unknown> {
  // A bug in the service, not a job's failure: here the stack helps.
  return error instanceof Error
    ? { error: error.message, stack: error.stack }
    : { error: String(error) }
}
