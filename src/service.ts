/**
 * The composition root: builds the store, the queue, the workers and the
 * HTTP server from a `Config`, starts them in order, and stops them in
 * order. It is the only module that sees every part; each long-lived part
 * is a task it owns, through a signal and a promise.
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import type { Hono } from 'hono'
import { sleep } from './concurrency/abort.ts'
import { spawn, type Task } from './concurrency/task.ts'
import type { Config } from './config.ts'
import { createApp } from './http/app.ts'
import { defaultHandlers, type HandlerRegistry } from './jobs/handlers.ts'
import { MemoryStore } from './jobs/memory-store.ts'
import { WorkerPool } from './jobs/pool.ts'
import { createJobQueue, type JobQueue } from './jobs/queue.ts'
import type { JobStore } from './jobs/store.ts'
import type { WorkerEvent } from './jobs/worker.ts'

/** Writes one structured log event. */
export type Log = (event: string, fields?: Record<string, unknown>) => void

/** What a service may be given instead of its defaults (tests use these). */
export interface ServiceOptions {
  readonly handlers?: HandlerRegistry
  readonly store?: JobStore
  readonly log?: Log
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
  /** Starts workers, then HTTP; resolves with the URL it listens on. */
  start(): Promise<string>
  /** Stops everything in order; idempotent, bounded by the deadline. */
  stop(): Promise<StopReport>
}

/** Builds a service from its configuration; nothing runs until `start()`. */
export function createService(config: Config, options: ServiceOptions = {}): Service {
  const log = options.log ?? (() => {})
  const store = options.store ?? new MemoryStore({ retention: config.retention })
  const handlers = options.handlers ?? defaultHandlers()
  const queue = createJobQueue(config.queueCapacity)
  const stopping = new AbortController()
  const app = createApp({
    store,
    queue,
    handlers,
    stopping: stopping.signal,
    onUnexpectedError: (error) => log('request_failed', errorFields(error)),
  })

  let pool: WorkerPool | undefined
  let http: Task<void> | undefined
  let stopped: Promise<StopReport> | undefined

  // #region start
  async function start(): Promise<string> {
    if (pool !== undefined) throw new Error('service already started')
    // Consumers before producers: the workers wait on the queue before
    // any request can put a job on it.
    pool = new WorkerPool({
      size: config.workerCount,
      store,
      queue,
      handlers,
      onEvent: (event) => log(event.event, eventFields(event)),
    })
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
    // 1. Refuse new work: POST /jobs answers 503 from now on.
    stopping.abort(new Error('service stopping'))
    // 2. Stop the HTTP server and wait for its requests to end: after
    //    this, no producer is left.
    http?.abort()
    await http
    // 3. Close the queue, here and nowhere else, now that no one sends.
    queue.close()
    if (pool === undefined) return { jobsAborted: false, abandoned: false }
    // 4. Workers take no new job; each finishes the one it holds.
    pool.stopTaking()
    // 5. Wait for them, up to the deadline; then abort running jobs.
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

function eventFields(event: WorkerEvent): Record<string, unknown> {
  if ('job' in event) {
    const { id, type, status, attempts, last_error } = event.job
    return { worker: event.worker, job_id: id, type, status, attempts, last_error }
  }
  if ('id' in event) return { worker: event.worker, job_id: event.id }
  return { worker: event.worker }
}

function errorFields(error: unknown): Record<string, unknown> {
  return error instanceof Error
    ? { error: error.message, stack: error.stack }
    : { error: String(error) }
}
