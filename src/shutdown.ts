/**
 * The graceful stop, as one sequence in one function: producers first,
 * then the queue, then the consumers, under one deadline. Each part comes
 * in through a small interface, so the service passes its real parts and
 * a test passes fakes. Each phase is logged as it starts and ends, and the
 * stop ends with one report, logged as `"event":"shutdown_report"`.
 *
 * How service.ts uses this (`stop()`, called once, on the first signal):
 *
 *   const report = await shutdown(
 *     {
 *       refuseNewWork: () => stopping.abort(),  // /ready and POST → 503
 *       server,                                 // the node:http Server
 *       producers: [feeder, sweeper],           // tasks that send
 *       queue,
 *       workers: pool,                          // a WorkerPool
 *       threads: cpuPool,                       // closed after workers
 *       store,
 *     },
 *     { timeoutMs, graceMs, hurry: secondSignal, log },
 *   )
 *   process.exitCode = report.exit_code
 *
 * `hurry` is a signal main.ts aborts on a second SIGINT/SIGTERM.
 */
import { sleep } from './concurrency/abort.ts'
import { knownTasks } from './concurrency/task.ts'
import { requeue } from './jobs/recovery.ts'
import type { JobStore } from './jobs/store.ts'

// #region parts
/** The HTTP server's part; a `node:http` `Server` has all of it. */
export interface ShutdownServer {
  getConnections(
    callback: (error: Error | null, count: number) => void,
  ): unknown
  /** Stops accepting; calls back once every connection has ended. */
  close(callback?: (error?: Error) => void): unknown
  closeIdleConnections(): void
  closeAllConnections(): void
}

/** A task that sends to the queue (sweeper, recovery feeder). */
export interface Producer extends PromiseLike<unknown> {
  readonly name: string
  /** Asks it to stop; awaiting it then waits until it has. */
  abort(reason?: unknown): void
}

/** The workers' part; a `WorkerPool` has all of it. */
export interface ShutdownWorkers {
  /** Take no new job; finish the one held. No wait. */
  stopTaking(reason?: unknown): void
  /**
   * Abort the running jobs' signals. A worker whose job stops this way
   * puts it back to `pending` (`requeue`), with no signal.
   */
  abortJobs(reason?: unknown): void
  /** Resolves when every worker has returned. */
  wait(): Promise<void>
}

/** The store's part: to find held jobs, requeue, and close. */
export type ShutdownStore = Pick<JobStore, 'list' | 'get' | 'transition'> & {
  close?(): Promise<void>
}

/** Everything the stop stops, in the order it stops them. */
export interface ShutdownParts {
  /** Phase 1: readiness and `POST /jobs` answer 503. No wait. */
  refuseNewWork(): void
  /** Phase 2 (absent if the server never started). */
  readonly server?: ShutdownServer | undefined
  /** Phase 3: every producer but HTTP. */
  readonly producers: readonly Producer[]
  /** Phase 4: closed here and nowhere else. */
  readonly queue: { close(): void }
  /** Phases 5 and 6 (absent if the workers never started). */
  readonly workers?: ShutdownWorkers | undefined
  /** Phase 7: the CPU thread pool, closed once no worker can use it. */
  readonly threads?: { close(): Promise<void> } | undefined
  /** Phase 7: the store, closed last. */
  readonly store: ShutdownStore
}
// #endregion parts

/** Writes one structured log event (`main.ts` writes a JSON line). */
export type ShutdownLog = (
  event: string,
  fields: Record<string, unknown>,
) => void

/** Options of {@link shutdown}. */
export interface ShutdownOptions {
  /** `SHUTDOWN_TIMEOUT`: from the start of the stop to aborting jobs. */
  readonly timeoutMs: number
  /** `SHUTDOWN_GRACE`: how long an aborted job has to return. */
  readonly graceMs: number
  /** Aborting it (a second signal) makes the deadline pass at once. */
  readonly hurry?: AbortSignal | undefined
  readonly log?: ShutdownLog | undefined
  /** The clock for phase durations (default `performance.now`). */
  readonly now?: (() => number) | undefined
  /** The tracked tasks still alive (default: `knownTasks()`). */
  readonly tasksLeft?: (() => readonly { readonly name: string }[]) | undefined
}

/** The phases, in the order they run; `abort_jobs` only if needed. */
export const SHUTDOWN_PHASES = [
  'refuse_new_work',
  'stop_http',
  'stop_producers',
  'close_queue',
  'finish_jobs',
  'abort_jobs',
  'close_resources',
] as const

/** One phase's name. */
export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number]

// #region report
/** What a stop did; logged as one line, `"event":"shutdown_report"`. */
export interface ShutdownReport {
  /** The phases that ran, in order, with how long each took. */
  readonly phases: readonly { name: ShutdownPhase; duration_ms: number }[]
  /** Jobs held at the stop that ended finished (not `pending`). */
  readonly jobs_finished: number
  /** Jobs held at the stop that were stopped and are `pending` again. */
  readonly jobs_requeued: number
  /** Jobs whose handler never returned; set `pending` by the stop. */
  readonly jobs_abandoned: readonly string[]
  /** Connections open when the server stopped taking new ones. */
  readonly connections_closed: number
  /** Tracked tasks still alive at the end (names). */
  readonly tasks_left: readonly string[]
  /** What failed, by phase; the stop went on regardless. */
  readonly errors: readonly { phase: ShutdownPhase; error: string }[]
  /** 0 after a clean stop; 1 when anything was abandoned or failed. */
  readonly exit_code: 0 | 1
}
// #endregion report

/**
 * The reason running jobs' signals abort: the deadline passed, or a
 * second signal asked to hurry. A worker that sees it puts its job back
 * to `pending` instead of failing it.
 */
export class ShutdownDeadlineError extends Error {
  override name = 'ShutdownDeadlineError'
}

// #region shutdown
/**
 * Stops everything in order and reports how it went. Never rejects: a
 * phase that fails is logged and reported, and the stop goes on. Every
 * wait is bounded: by the deadline (`timeoutMs` from the call, or at once
 * on `hurry`), then by `graceMs`. Call it once.
 */
export async function shutdown(
  parts: ShutdownParts,
  options: ShutdownOptions,
): Promise<ShutdownReport> {
  const { timeoutMs, graceMs, hurry } = options
  const log = options.log ?? (() => {})
  const now = options.now ?? (() => performance.now())
  const deadline = startDeadline(timeoutMs, hurry, log)
  const phases: { name: ShutdownPhase; duration_ms: number }[] = []
  const errors: { phase: ShutdownPhase; error: string }[] = []

  async function phase(name: ShutdownPhase, body: () => unknown) {
    log('shutdown_phase_started', { phase: name })
    const started = now()
    try {
      await body()
    } catch (error) {
      errors.push({ phase: name, error: messageOf(error) })
      log('shutdown_phase_failed', { phase: name, error: messageOf(error) })
    }
    const duration_ms = Math.round(now() - started)
    phases.push({ name, duration_ms })
    log('shutdown_phase_ended', { phase: name, duration_ms })
  }

  const { server, producers, queue, workers, threads, store } = parts
  let connections = 0
  let producersStopped = true
  let held: string[] = []
  let abandoned: string[] = []
  let counts = { finished: 0, requeued: 0 }
  let tasks_left: string[] = []
  try {
    // 1. No new work is accepted from here on.
    await phase('refuse_new_work', () => parts.refuseNewWork())
    // 2. HTTP, the first producer: requests in flight finish.
    await phase('stop_http', async () => {
      if (server) connections = await closeServer(server, deadline.signal)
    })
    // 3. The other producers, so that nothing can send any more...
    await phase('stop_producers', async () => {
      producersStopped = await stopProducers(producers, graceMs, errors)
    })
    // 4. ...and only then the queue. A producer that did not stop keeps
    //    it open: a send on a closed queue is a bug, an open one is not.
    if (producersStopped) await phase('close_queue', () => queue.close())
    // 5. Workers finish what they hold, until the deadline.
    if (workers) {
      const workersDone = workers.wait().catch((error: unknown) => {
        errors.push({ phase: 'finish_jobs', error: messageOf(error) })
      })
      let workersEnded = false
      await phase('finish_jobs', async () => {
        workers.stopTaking(new Error('shutting down'))
        held = await idsOf(store, 'processing')
        workersEnded = await until(workersDone, deadline.signal)
      })
      // 6. Past the deadline: abort the jobs, give them the grace.
      if (!workersEnded) {
        await phase('abort_jobs', async () => {
          workers.abortJobs(deadline.signal.reason)
          await within(workersDone, graceMs)
        })
      }
    }
    // 7. Nothing is left `processing`; count the outcomes while the
    //    store is open; close what the workers used, then the store;
    //    check that no task is left. Each step runs even if one failed.
    await phase('close_resources', async () => {
      const failed: unknown[] = []
      const step = (work: () => Promise<unknown>) =>
        work().catch((error: unknown) => void failed.push(error))
      await step(async () => {
        abandoned = await idsOf(store, 'processing')
        if (abandoned.length > 0) log('jobs_abandoned', { job_ids: abandoned })
        for (const id of abandoned) await requeue(store, id)
      })
      await step(async () => {
        counts = await countOutcomes(store, held, abandoned)
      })
      await step(async () => threads?.close())
      await step(async () => store.close?.())
      await step(async () => {
        tasks_left = (options.tasksLeft ?? knownTasks)().map((t) => t.name)
      })
      if (failed.length > 0) {
        throw new AggregateError(failed, failed.map(messageOf).join('; '))
      }
    })
  } finally {
    deadline.clear()
  }

  const clean = abandoned.length + errors.length + tasks_left.length === 0
  const report: ShutdownReport = {
    phases,
    jobs_finished: counts.finished,
    jobs_requeued: counts.requeued,
    jobs_abandoned: abandoned,
    connections_closed: connections,
    tasks_left,
    errors,
    exit_code: clean ? 0 : 1,
  }
  log('shutdown_report', { ...report })
  return report
}
// #endregion shutdown

// #region deadline
/**
 * A signal that aborts when `ms` have passed or `hurry` aborts, whichever
 * comes first, with a `ShutdownDeadlineError`; `clear()` removes the
 * timer and the listener.
 */
function startDeadline(
  ms: number,
  hurry: AbortSignal | undefined,
  log: ShutdownLog,
): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController()
  const pass = (event: string, message: string) => {
    if (controller.signal.aborted) return
    log(event, {})
    controller.abort(new ShutdownDeadlineError(message))
  }
  const timer = setTimeout(
    () => pass('shutdown_deadline_passed', `deadline (${ms} ms) passed`),
    ms,
  )
  const onHurry = () =>
    pass('shutdown_hurried', 'a second signal cut the shutdown short')
  if (hurry?.aborted) onHurry()
  else hurry?.addEventListener('abort', onHurry, { once: true })
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer)
      hurry?.removeEventListener('abort', onHurry)
    },
  }
}
// #endregion deadline

// #region close-server
/**
 * Stops the server taking connections and waits for requests in flight,
 * closing each keep-alive connection as soon as it is idle; when the
 * deadline passes, it closes every connection. Resolves with how many
 * connections were open.
 */
async function closeServer(
  server: ShutdownServer,
  deadline: AbortSignal,
): Promise<number> {
  const open = await new Promise<number>((resolve) =>
    server.getConnections((error, count) => resolve(error ? 0 : count)),
  )
  // Resolves on 'close', or at once if it was not listening.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  // A busy connection turns idle once it has answered, and the server
  // would then keep it for the next request: close idle ones again and
  // again, every 1 ms, then 2, 4... up to 500 ms, as Go's Shutdown does.
  for (let pollMs = 1; ; pollMs = Math.min(pollMs * 2, 500)) {
    server.closeIdleConnections()
    const outcome = await settleWithin(closed, pollMs, deadline)
    if (outcome === 'settled') break
    if (outcome === 'aborted') {
      server.closeAllConnections()
      await closed
      break
    }
  }
  return open
}
// #endregion close-server

/**
 * Aborts every producer and waits for all of them, up to `graceMs`.
 * Returns whether all stopped; records failures and those left running.
 */
async function stopProducers(
  producers: readonly Producer[],
  graceMs: number,
  errors: { phase: ShutdownPhase; error: string }[],
): Promise<boolean> {
  const reason = new Error('shutting down')
  for (const producer of producers) producer.abort(reason)
  const running = new Set(producers)
  const ended = producers.map((producer) =>
    Promise.resolve(producer).then(
      () => void running.delete(producer),
      (error: unknown) => {
        running.delete(producer)
        if (error !== reason) {
          errors.push({
            phase: 'stop_producers',
            error: `${producer.name}: ${messageOf(error)}`,
          })
        }
      },
    ),
  )
  if (await within(Promise.all(ended), graceMs)) return true
  for (const producer of running) {
    errors.push({
      phase: 'stop_producers',
      error: `${producer.name} did not stop; the queue is left open`,
    })
  }
  return false
}

/** The ids of the jobs in `status`, in creation order. */
async function idsOf(
  store: ShutdownStore,
  status: 'processing' | 'pending',
): Promise<string[]> {
  return (await store.list({ status })).map((job) => job.id)
}

/** Of the jobs held at the stop, how many ended finished or requeued. */
async function countOutcomes(
  store: ShutdownStore,
  held: readonly string[],
  abandoned: readonly string[],
): Promise<{ finished: number; requeued: number }> {
  let finished = 0
  let requeued = 0
  for (const id of held) {
    if (abandoned.includes(id)) continue
    const job = await store.get(id)
    // Gone means evicted, which only happens to finished jobs.
    if (job?.status === 'pending') requeued += 1
    else finished += 1
  }
  return { finished, requeued }
}

/**
 * Which comes first: `promise` settles, `ms` pass (never, if undefined),
 * or `signal` aborts. Removes its timer and listener either way.
 */
async function settleWithin(
  promise: Promise<unknown>,
  ms: number | undefined,
  signal?: AbortSignal,
): Promise<'settled' | 'timeout' | 'aborted'> {
  if (signal?.aborted) return 'aborted'
  const cleanup = new AbortController()
  const settled = () => 'settled' as const
  const racers: Promise<'settled' | 'timeout' | 'aborted'>[] = [
    promise.then(settled, settled),
  ]
  if (ms !== undefined) {
    const timeout = () => 'timeout' as const
    racers.push(sleep(ms, { signal: cleanup.signal }).then(timeout, timeout))
  }
  if (signal !== undefined) {
    racers.push(
      new Promise((resolve) => {
        const onAbort = () => resolve('aborted')
        signal.addEventListener('abort', onAbort, { once: true })
        cleanup.signal.addEventListener('abort', () =>
          signal.removeEventListener('abort', onAbort),
        )
      }),
    )
  }
  try {
    return await Promise.race(racers)
  } finally {
    cleanup.abort()
  }
}

/** Whether `promise` settled before `signal` aborted. */
async function until(promise: Promise<unknown>, signal: AbortSignal) {
  return (await settleWithin(promise, undefined, signal)) === 'settled'
}

/** Whether `promise` settled within `ms`. */
async function within(promise: Promise<unknown>, ms: number) {
  return (await settleWithin(promise, ms)) === 'settled'
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
