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
import { createAdaptorServer } from '@hono/node-server'
import type { Hono } from 'hono'
import type { Logger } from 'pino'
import { sleep } from './concurrency/abort.ts'
import { spawn, type Task } from './concurrency/task.ts'
import type { Config } from './config.ts'
import { createApp } from './http/app.ts'
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

/** How a stop went. */
export interface StopReport {
  /** Whether the deadline passed and running jobs had to be aborted. */
  readonly jobsAborted: boolean
  /** Whether workers were still running after the abort and its grace. */
  readonly abandoned: boolean
}

/** How long a stop waits for aborted jobs' handlers to return. */
export const SHUTDOWN_GRACE_MS = 1_000

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
  /** Stops everything in order; idempotent, bounded by the deadline. */
  stop(): Promise<StopReport>
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
    onUnexpectedError: (error) =>
      logger.error({ event: 'request_failed', ...errorFields(error) }),
  })

  let pool: WorkerPool | undefined
  let sweeper: Task<void> | undefined
  let http: Task<void> | undefined
  let stopped: Promise<StopReport> | undefined

  // #region start
  async function start(): Promise<string> {
    if (pool !== undefined) throw new Error('service already started')
    // Consumers before producers: the workers wait on the queue before
    // the sweeper or any request can put a job on it.
    const jobs = { store, queue, events, now }
    const size = config.workerCount
    pool = new WorkerPool({ ...jobs, size, handlers, running, retry })
    const intervalMs = config.sweeperIntervalMs
    sweeper = spawn('sweeper', (signal) =>
      runSweeper({ ...jobs, intervalMs, signal }),
    )
    const server = createAdaptorServer({ fetch: app.fetch }) as Server
    server.listen(config.port, config.host)
    await once(server, 'listening') // rejects on 'error' (port in use...)
    http = spawn('http-server', (signal) => serveUntil(server, signal, config))
    const url = urlOf(server.address() as AddressInfo)
    log('listening', { url })
    return url
  }
  // #endregion start

  // #region stop
  async function shutdown(): Promise<StopReport> {
    try {
      return await stopInOrder()
    } finally {
      // No worker is left to use the threads (or, if one was abandoned,
      // its thread is ended with it).
      await cpuPool.close()
    }
  }

  async function stopInOrder(): Promise<StopReport> {
    // 1. Refuse new work: POST /jobs answers 503 from now on.
    stopping.abort(new Error('service stopping'))
    // 2. Stop the producers and wait for them: HTTP (its requests in
    //    flight end first), then the sweeper.
    http?.abort()
    await http
    sweeper?.abort()
    await sweeper
    // 3. Close the queue, here and nowhere else, now that no one sends.
    queue.close()
    if (pool === undefined) return { jobsAborted: false, abandoned: false }
    // 4. Workers take no new job; each finishes the one it holds.
    pool.stopTaking()
    // 5. Wait for them, up to the deadline; then abort running jobs,
    //    which go back to `pending`.
    if (await within(pool.wait(), config.shutdownTimeoutMs)) {
      return { jobsAborted: false, abandoned: false }
    }
    log('shutdown_deadline_passed', { timeout_ms: config.shutdownTimeoutMs })
    pool.abortJobs(new Error('shutdown deadline passed'))
    const ended = await within(pool.wait(), SHUTDOWN_GRACE_MS)
    return { jobsAborted: true, abandoned: !ended }
  }
  // #endregion stop

  return {
    app,
    store,
    queue,
    events,
    metrics,
    logger,
    start,
    stop: () => (stopped ??= shutdown()),
  }
}

// #region serve-until
/**
 * Serves until `signal` aborts, then stops taking connections, closes idle
 * keep-alive ones at once, lets requests in flight finish, and resolves
 * when the server has closed. Past the shutdown timeout it closes every
 * connection, so a slow client cannot hold the stop open.
 */
async function serveUntil(server: Server, signal: AbortSignal, config: Config) {
  await abortOf(signal)
  const closed = once(server, 'close')
  server.close()
  server.closeIdleConnections()
  if (!(await within(closed, config.shutdownTimeoutMs))) {
    server.closeAllConnections()
    await closed
  }
}
// #endregion serve-until

/** Resolves when `signal` aborts. */
function abortOf(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve(), { once: true })
  })
}

/** Whether `promise` settled within `ms`; its timer is cleared either way. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController()
  try {
    return await Promise.race([
      promise.then(() => true),
      sleep(ms, { signal: timer.signal }).then(
        () => false,
        () => false,
      ),
    ])
  } finally {
    timer.abort()
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
