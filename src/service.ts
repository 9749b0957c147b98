/**
 * The composition root: builds every part of the service from a `Config`
 * and lists them in the order they start. The stop walks that list
 * backwards (see `shutdown.ts`). It is the only module that sees every
 * part; each long-lived part is a task it owns, through a signal and a
 * promise.
 *
 * One job's path, by name: `POST /jobs` (http/app.ts) → `submitJob` →
 * `store.create` (insert is enqueue) → `wakeUp` → `runFetcher` claims →
 * the hand-off channel → `runWorker` → `runAttempt` → `store.finish`
 * (fenced) → events → logs and metrics.
 */
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Hono } from 'hono'
import type { Logger } from 'pino'
import { Channel } from './concurrency/channel.ts'
import { spawn, type Task } from './concurrency/task.ts'
import type { Config } from './config.ts'
import { createApp } from './http/app.ts'
import { createHttpServer } from './http/server.ts'
import { Backlog } from './jobs/backlog.ts'
import { hashJob } from './jobs/cpu/hash.ts'
import { createCpuPool, type CpuPool } from './jobs/cpu/pool.ts'
import { JobCanceledError, messageOf } from './jobs/errors.ts'
import { JobEvents } from './jobs/events.ts'
import { createWake, runFetcher, wakeUp } from './jobs/fetcher.ts'
import { defaultHandlers, type HandlerRegistry } from './jobs/handlers.ts'
import { runLeaseKeeper } from './jobs/leases.ts'
import { attachLogger, createLogger } from './jobs/log.ts'
import { createJobMetrics, type JobMetrics } from './jobs/metrics.ts'
import { WorkerPool } from './jobs/pool.ts'
import { recoverAtStart } from './jobs/recovery.ts'
import { runRescuer } from './jobs/rescuer.ts'
import { RunningJobs, type HeldAttempt } from './jobs/running.ts'
import type { JobStore } from './jobs/store/contract.ts'
import {
  startEmbeddedPostgres,
  type EmbeddedServer,
} from './jobs/store/embedded.ts'
import { runListener } from './jobs/store/listener.ts'
import { MemoryStore } from './jobs/store/memory.ts'
import { PostgresStore } from './jobs/store/postgres.ts'
import type { RetryPolicy } from './jobs/retry.ts'
import {
  closeServer,
  emptyReport,
  stopParts,
  stopTask,
  within,
  type Part,
  type ShutdownReport,
  type StopContext,
} from './shutdown.ts'

/** What a service may be given instead of its defaults (tests use these). */
export interface ServiceOptions {
  /** Job types (default: `sleep`, `fail`, and `hash` on the thread pool). */
  readonly handlers?: HandlerRegistry
  /** A store to use instead of the configured one; the caller closes it. */
  readonly store?: JobStore
  /** A pino logger (default: JSON lines on stdout at `LOG_LEVEL`). */
  readonly logger?: Logger
  /** The threads for CPU-bound jobs (default: `CPU_POOL_SIZE` threads). */
  readonly cpuPool?: CpuPool
  /** The random numbers of the retry jitter (default `Math.random`). */
  readonly random?: () => number
  /** The memory store's clock (default: the real one). */
  readonly now?: () => Date
  /** Turns fsync off in the embedded server (tests only). */
  readonly unsafeNoFsync?: boolean
}

/** A job service: the API, the store and the workers, as one. */
export interface Service {
  /** The HTTP app (usable with `app.request()` once started). */
  readonly app: Hono
  /** Who this instance is, in the leases it holds. */
  readonly instanceId: string
  /** The job lifecycle events; logs and metrics listen to them. */
  readonly events: JobEvents
  readonly metrics: JobMetrics
  readonly logger: Logger
  /** The store, once `start()` has opened it. */
  readonly store: JobStore
  /** Starts every part in order; resolves with the URL it listens on. */
  start(): Promise<string>
  /**
   * Stops every part in reverse order and reports how it went;
   * idempotent, bounded by `SHUTDOWN_TIMEOUT` plus `SHUTDOWN_GRACE` per
   * phase. Aborting `hurry` (a second signal) makes the deadline pass.
   */
  stop(options?: { hurry?: AbortSignal | undefined }): Promise<ShutdownReport>
  /** Aborts when the service cannot go on (its workers keep crashing). */
  readonly failed: AbortSignal
}

/** How old a finished job may get before it is pruned (a week). */
export const RETENTION_AGE_MS = 7 * 24 * 3600 * 1000

/** Builds a service from its configuration; nothing runs until `start()`. */
export function createService(config: Config, options: ServiceOptions = {}): Service {
  const logger = options.logger ?? createLogger({ level: config.logLevel })
  const log = (event: string, fields: Record<string, unknown> = {}) =>
    logger.info({ event, ...fields }, event.replaceAll('_', ' '))
  const warn = (event: string) => (error: unknown) =>
    logger.warn({ event, error: messageOf(error) }, event.replaceAll('_', ' '))
  const instanceId = `instance-${randomUUID().slice(0, 8)}`
  // Threads start on demand: a pool no job uses costs nothing.
  const cpuPool = options.cpuPool ?? createCpuPool({ size: config.cpuPoolSize })
  const handlers =
    options.handlers ??
    defaultHandlers().register('hash', {
      ...hashJob(cpuPool),
      concurrency: config.cpuPoolSize,
    })
  const retry: RetryPolicy = {
    baseMs: config.retryBaseMs,
    maxMs: config.retryMaxMs,
    random: options.random ?? Math.random,
  }
  // #region observability
  const events = new JobEvents({
    onListenerError: (error) =>
      logger.warn({ event: 'listener_failed', error: messageOf(error) }),
  })
  attachLogger(events, logger)
  // #endregion observability
  const running = new RunningJobs()
  const stopping = new AbortController()
  const failed = new AbortController()
  const wake = createWake()
  const queue = new Channel<HeldAttempt>(0) // the local hand-off
  const tasks = new Set<Task<unknown>>()
  const track = <T>(task: Task<T>): Task<T> => {
    tasks.add(task)
    task.then(
      () => tasks.delete(task),
      () => tasks.delete(task),
    )
    return task
  }

  // Made at start, in this order; the parts below reach them through here.
  let store: JobStore | undefined = options.store
  let embedded: EmbeddedServer | undefined
  let pool: WorkerPool | undefined
  let app: Hono | undefined
  let server: Server | undefined
  let url = ''
  const opened = (): JobStore => {
    if (store === undefined) throw new Error('the store is not open yet')
    return store
  }

  const metrics = createJobMetrics(events, {
    countByStatus: () => opened().countByStatus(),
  })
  const backlog = new Backlog({
    store: { countWaiting: (upTo) => opened().countWaiting(upTo) },
    capacity: config.queueCapacity,
  })
  const makeApp = (): Hono =>
    createApp({
      store: opened(),
      handlers,
      running,
      backlog,
      events,
      metrics,
      wake: () => wakeUp(wake),
      defaultTimeoutMs: config.jobTimeoutMs,
      stopping: stopping.signal,
      onUnexpectedError: (error, request) => {
        const fields = { event: 'request_failed', ...request }
        logger.error({ ...fields, ...errorFields(error) })
      },
    })
  const rescuePolicy = { baseMs: config.retryBaseMs, maxMs: config.retryMaxMs }
  const taskPart = (
    name: string,
    phase: string,
    body: (signal: AbortSignal) => Promise<void>,
  ): Part => {
    let task: Task<void> | undefined
    return {
      name,
      phase,
      start: () => void (task = track(spawn(name, body))),
      stop: async (context) => {
        if (task) await stopTask(task, context.graceMs)
      },
    }
  }

  // #region parts
  // Each part needs the ones above it; the stop runs from the bottom up.
  const parts: Part[] = [
    {
      name: 'database',
      phase: 'stop_database',
      async start() {
        if (store || config.store === 'memory' || config.databaseUrl) return
        embedded = await startEmbeddedPostgres({
          dataDir: config.dataDir,
          fsync: options.unsafeNoFsync !== true,
        })
        log('database_started', { data_dir: config.dataDir, adopted: embedded.adopted })
      },
      stop: () => embedded?.stop(),
    },
    {
      name: 'store',
      phase: 'close_store',
      async start() {
        if (store) return
        if (config.store === 'memory') {
          store = new MemoryStore({ now: options.now, random: options.random })
          return
        }
        store = await PostgresStore.open({
          connectionString: config.databaseUrl ?? embedded!.url,
          maxConnections: config.databasePoolSize,
          onConnectionError: warn('database_connection_lost'),
        })
      },
      async stop(context) {
        const closing = opened()
        // A store that keeps nothing loses what has not finished.
        if (closing instanceof MemoryStore) {
          context.report.jobs_lost = closing.unfinished
        }
        if (closing !== options.store) await closing.close()
      },
    },
    {
      name: 'recovery',
      phase: 'recovery',
      async start() {
        const rescued = await recoverAtStart({
          store: opened(),
          exclusive: embedded !== undefined,
          policy: rescuePolicy,
          events,
        })
        log('recovered', { rescued, instance_id: instanceId })
      },
    },
    { name: 'threads', phase: 'close_threads', stop: () => cpuPool.close() },
    taskPart('lease-keeper', 'stop_leases', (signal) =>
      runLeaseKeeper({
        store: opened(),
        running,
        leaseMs: config.leaseMs,
        signal,
        events,
        onError: warn('heartbeat_failed'),
      }),
    ),
    {
      name: 'workers',
      phase: 'finish_jobs',
      start() {
        pool = new WorkerPool({
          size: config.workerCount,
          store: opened(),
          queue,
          handlers,
          running,
          events,
          retry,
          onIdle: () => wakeUp(wake),
          onGiveUp: (error) => {
            logger.fatal({ event: 'workers_gave_up', error: messageOf(error) })
            // Not ready, and no new jobs, from now on; main.ts stops.
            stopping.abort(error)
            failed.abort(error)
          },
        })
      },
      stop: (context) => drainWorkers(pool!, context),
    },
    // #region handoff-parts
    // Closed between the producers and the consumers, as Go would: the
    // fetcher has stopped sending, the workers then drain and return.
    { name: 'queue', phase: 'close_queue', stop: () => queue.close() },
    taskPart('fetcher', 'stop_fetcher', (signal) =>
      runFetcher({
        owner: instanceId,
        store: opened(),
        queue,
        running,
        idleWorkers: () => pool?.idle ?? 0,
        leaseMs: config.leaseMs,
        pollMs: config.pollIntervalMs,
        typeLimits: handlers.limits(),
        wake,
        signal,
        events,
        onError: warn('claim_failed'),
      }),
    ),
    // #endregion handoff-parts
    taskPart('rescuer', 'stop_rescuer', (signal) =>
      runRescuer({
        store: opened(),
        policy: rescuePolicy,
        prune: { olderThanMs: RETENTION_AGE_MS, keep: config.retention },
        intervalMs: config.rescueIntervalMs,
        signal,
        events,
        onError: warn('rescue_failed'),
      }),
    ),
    taskPart('listener', 'stop_listener', async (signal) => {
      const url = config.databaseUrl ?? embedded?.url
      if (!opened().durable || url === undefined || config.wakeups === 'poll') return
      await runListener({
        connectionString: url,
        onJob: () => wakeUp(wake),
        onCancel: (id) => void running.abort(id, new JobCanceledError(id)),
        signal,
        onConnected: () => log('listener_connected'),
        onLost: warn('listener_lost'),
      })
    }),
    {
      name: 'http',
      phase: 'stop_http',
      async start() {
        app = makeApp()
        const http = createHttpServer(app, config.http, { logger })
        http.listen(config.port, config.host)
        await once(http, 'listening') // rejects on 'error' (port in use...)
        server = http
        url = urlOf(http.address() as AddressInfo)
        log('listening', { url, store: opened().durable ? 'postgres' : 'memory' })
      },
      async stop(context) {
        if (!server) return
        context.report.connections_closed = await closeServer(
          server,
          context.deadline,
        )
      },
    },
    {
      // Last to start, first to stop: from here on, /ready and POST /jobs
      // answer 503.
      name: 'intake',
      phase: 'refuse_new_work',
      stop: () => stopping.abort(new Error('service stopping')),
    },
  ]
  // #endregion parts

  // #region drain
  /**
   * The consumers' phase: each worker finishes the job it holds until the
   * deadline; then the jobs are aborted (given back as interrupted) and
   * have the grace to return. A job whose handler still has not returned
   * is abandoned: the stop gives it back itself, so the next start (or
   * another instance) runs it.
   */
  async function drainWorkers(
    workers: WorkerPool,
    context: StopContext,
  ): Promise<void> {
    workers.stopTaking(new Error('shutting down'))
    const done = workers.wait()
    if (await until(done, context.deadline)) return
    await context.phase('abort_jobs', async () => {
      workers.abortJobs(context.deadline.reason)
      await within(done, context.graceMs)
    })
    for (const id of running.ids()) {
      const attempt = running.get(id)!
      const reason = 'abandoned: its handler ignored the stop'
      await opened().finish(attempt.lease, { kind: 'interrupted', reason })
      running.release(attempt)
      context.report.jobs_abandoned.push(id)
    }
    if (context.report.jobs_abandoned.length > 0) {
      log('jobs_abandoned', { job_ids: context.report.jobs_abandoned })
    }
  }
  // #endregion drain

  const started: Part[] = []
  let starting: Promise<string> | undefined
  let stopped: Promise<ShutdownReport> | undefined

  // #region start
  async function startAll(): Promise<string> {
    for (const part of parts) {
      await part.start?.()
      started.push(part)
    }
    return url
  }
  // #endregion start

  async function stopAll(hurry?: AbortSignal): Promise<ShutdownReport> {
    // How the jobs held at the stop end, counted from their events.
    const report = emptyReport()
    const unsubscribe = events.subscribe((event) => {
      if (event.event === 'job_interrupted') report.jobs_interrupted += 1
      if (event.event === 'job_released') report.jobs_released += 1
      const byWorker =
        event.event === 'job_completed' ||
        event.event === 'job_failed' ||
        (event.event === 'job_canceled' && event.worker_id !== undefined)
      if (byWorker) report.jobs_finished += 1
    })
    try {
      return await stopParts(started, {
        timeoutMs: config.shutdownTimeoutMs,
        graceMs: config.shutdownGraceMs,
        hurry,
        log,
        report,
        tasksLeft: () => [...tasks].map((task) => task.name),
      })
    } finally {
      unsubscribe()
    }
  }

  return {
    get app() {
      if (app === undefined) throw new Error('the service has not started')
      return app
    },
    instanceId,
    events,
    metrics,
    logger,
    get store() {
      return opened()
    },
    failed: failed.signal,
    start() {
      if (starting !== undefined) throw new Error('service already started')
      return (starting = startAll().catch(async (error: unknown) => {
        // Stop what did start (the database, say), then report the failure.
        stopped ??= stopAll()
        await stopped
        throw error
      }))
    },
    stop: (given = {}) => (stopped ??= stopAll(given.hurry)),
  }
}

/** Whether `promise` settled before `signal` aborted. */
async function until(promise: Promise<unknown>, signal: AbortSignal) {
  if (signal.aborted) return false
  return new Promise<boolean>((resolve) => {
    const onAbort = () => resolve(false)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      () => {
        signal.removeEventListener('abort', onAbort)
        resolve(true)
      },
      () => {
        signal.removeEventListener('abort', onAbort)
        resolve(true)
      },
    )
  })
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
    : { error: messageOf(error) }
}
