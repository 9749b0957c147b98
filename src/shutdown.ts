/**
 * Stopping in the order of starting, backwards, from one list. The service lists its
 * parts in the order they start (what each needs comes before it); the
 * stop walks the same list backwards, one phase per part, under one
 * deadline. So the last thing started, the HTTP server, is the first
 * stopped, and the database, started first, is stopped last: one list,
 * read both ways, cannot disagree with itself.
 *
 * Each phase is logged as it starts and ends, and the stop ends with one
 * report, logged as `"event":"shutdown_report"`.
 */
import { sleep } from './concurrency/abort.ts'
import { JobInterruptedError, messageOf } from './jobs/errors.ts'

// #region part
/** One part of the service, as the start and the stop see it. */
export interface Part {
  /** Its name in the start's log lines. */
  readonly name: string
  /** The stop's phase for it, in the logs and the report. */
  readonly phase: string
  /** Starts it; the next part starts only once this has resolved. */
  start?(): Promise<void> | void
  /** Stops it, within the deadline and grace `context` gives. */
  stop?(context: StopContext): Promise<void> | void
}
// #endregion part

/** What a part's stop is given. */
export interface StopContext {
  /** Aborts when the deadline passes, or at once on a second signal. */
  readonly deadline: AbortSignal
  /** How long a part may take past an abort it was asked to heed (ms). */
  readonly graceMs: number
  /** Runs `body` as a phase of its own (logged, timed, in the report). */
  phase(name: string, body: () => Promise<unknown> | unknown): Promise<void>
  /** What the report says; a part adds what it knows. */
  readonly report: ReportDraft
}

/** The report as the parts fill it in. */
export interface ReportDraft {
  jobs_finished: number
  jobs_interrupted: number
  jobs_released: number
  jobs_abandoned: string[]
  jobs_lost: number
  connections_closed: number
}

// #region report
/** What a stop did; logged as one line, `"event":"shutdown_report"`. */
export interface ShutdownReport extends Readonly<ReportDraft> {
  /** The phases that ran, in order, with how long each took. */
  readonly phases: readonly { name: string; duration_ms: number }[]
  /** Tasks of the service still alive at the end (names). */
  readonly tasks_left: readonly string[]
  /** What failed, by phase; the stop went on regardless. */
  readonly errors: readonly { phase: string; error: string }[]
  /**
   * 0 after a clean stop; 1 when a job was abandoned or lost, a phase
   * failed, or a task was left running.
   */
  readonly exit_code: 0 | 1
}
// #endregion report

/** Writes one structured log event (`main.ts` writes a JSON line). */
export type ShutdownLog = (
  event: string,
  fields: Record<string, unknown>,
) => void

/** Options of {@link stopParts}. */
export interface StopOptions {
  /** `SHUTDOWN_TIMEOUT`: from the start of the stop to aborting jobs. */
  readonly timeoutMs: number
  /** `SHUTDOWN_GRACE`: how long an aborted job has to return. */
  readonly graceMs: number
  /** Aborting it (a second signal) makes the deadline pass at once. */
  readonly hurry?: AbortSignal | undefined
  readonly log?: ShutdownLog | undefined
  /** The clock for phase durations (default `performance.now`). */
  readonly now?: (() => number) | undefined
  /** The service's tasks still alive, read at the end. */
  readonly tasksLeft?: (() => readonly string[]) | undefined
  /** The report to fill in (the caller may count into it meanwhile). */
  readonly report?: ReportDraft | undefined
}

/** A report with nothing in it yet. */
export function emptyReport(): ReportDraft {
  return {
    jobs_finished: 0,
    jobs_interrupted: 0,
    jobs_released: 0,
    jobs_abandoned: [],
    jobs_lost: 0,
    connections_closed: 0,
  }
}

/**
 * The reason running jobs' signals abort when the deadline passes, or a
 * second signal asks to hurry. A worker that sees it gives its job back
 * instead of failing it.
 */
export class ShutdownDeadlineError extends JobInterruptedError {
  override name = 'ShutdownDeadlineError'
}

// #region stop-parts
/**
 * Stops `parts` in reverse order, one phase each, and reports how it
 * went. Never rejects: a phase that fails is logged and reported, and the
 * stop goes on. Every wait is bounded by the deadline (`timeoutMs` from
 * the call, or at once on `hurry`) and the grace after it.
 */
export async function stopParts(
  parts: readonly Part[],
  options: StopOptions,
): Promise<ShutdownReport> {
  const log = options.log ?? (() => {})
  const now = options.now ?? (() => performance.now())
  const deadline = startDeadline(options.timeoutMs, options.hurry, log)
  const phases: { name: string; duration_ms: number }[] = []
  const errors: { phase: string; error: string }[] = []
  const report = options.report ?? emptyReport()
  const context: StopContext = {
    deadline: deadline.signal,
    graceMs: options.graceMs,
    report,
    async phase(name, body) {
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
    },
  }
  try {
    // #region walk
    // The start's list, read backwards: the last part started stops first.
    for (const part of [...parts].reverse()) {
      if (part.stop) await context.phase(part.phase, () => part.stop!(context))
    }
    // #endregion walk
  } finally {
    deadline.clear()
  }
  const tasks_left = [...(options.tasksLeft?.() ?? [])]
  const unclean =
    report.jobs_abandoned.length +
    report.jobs_lost +
    errors.length +
    tasks_left.length
  const result: ShutdownReport = {
    phases,
    ...report,
    tasks_left,
    errors,
    exit_code: unclean === 0 ? 0 : 1,
  }
  log('shutdown_report', { ...result })
  return result
}
// #endregion stop-parts

/**
 * A signal that aborts when `ms` have passed or `hurry` aborts, whichever
 * comes first, with a `ShutdownDeadlineError`; `clear()` removes the
 * timer and the listener.
 */
// #region deadline
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

/**
 * Stops the server taking connections and waits for requests in flight,
 * closing each keep-alive connection as soon as it is idle; when the
 * deadline passes, it closes every connection. Resolves with how many
 * connections were open.
 */
export async function closeServer(
  server: ShutdownServer,
  deadline: AbortSignal,
): Promise<number> {
  // #region close-server
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
  // #endregion close-server
}

/** A task a part stops: abort it, then wait for it. */
export interface StoppableTask extends PromiseLike<unknown> {
  readonly name: string
  abort(reason?: unknown): void
}

/**
 * Aborts `task` and waits for it, up to `graceMs`. Rejects if it failed
 * (not counting its own abort), or if it is still running after the grace.
 */
export async function stopTask(
  task: StoppableTask,
  graceMs: number,
): Promise<void> {
  const reason = new Error('shutting down')
  task.abort(reason)
  let failure: { error: unknown } | undefined
  const ended = Promise.resolve(task).then(
    () => {},
    (error: unknown) => {
      if (error !== reason) failure = { error }
    },
  )
  if (!(await within(ended, graceMs))) {
    throw new Error(`${task.name} did not stop within ${graceMs} ms`)
  }
  if (failure) throw failure.error
}

/**
 * Which comes first: `promise` settles, `ms` pass (never, if undefined),
 * or `signal` aborts. Removes its timer and listener either way.
 */
export async function settleWithin(
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

/** Whether `promise` settled within `ms`. */
export async function within(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  return (await settleWithin(promise, ms)) === 'settled'
}
