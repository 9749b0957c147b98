/**
 * The worker: a loop that takes job ids off the queue, one at a time,
 * claims each job in the store, runs its handler under one signal, and
 * records how the attempt ended. It knows nothing of HTTP: its world is
 * the store, the queue, the handlers, and the events it reports.
 */
import { RunningJobs } from './cancel.ts'
import { JobTimeoutError, UnknownJobTypeError } from './errors.ts'
import { jobFields, type JobEvents } from './events.ts'
import type { HandlerRegistry } from './handlers.ts'
import type { Job } from './job.ts'
import type { JobQueue } from './queue.ts'
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  hasRetriesLeft,
  type RetryPolicy,
} from './retry.ts'
import { claim, type JobStore } from './store.ts'

/** What a worker needs. */
export interface WorkerOptions {
  /** A name for events and logs, e.g. `worker-3`. */
  readonly name: string
  readonly store: JobStore
  readonly queue: JobQueue
  readonly handlers: HandlerRegistry
  /**
   * Aborting it stops the worker from taking another job. It does NOT stop
   * the job the worker holds: that one runs to its end.
   */
  readonly signal: AbortSignal
  /** Aborting it aborts the running job's handler (a hard stop). */
  readonly jobSignal?: AbortSignal | undefined
  /** Where the worker reports what it does (logs, metrics, tests). */
  readonly events?: JobEvents | undefined
  /** Cancel switches, shared with `cancelJob` (default: the worker's own). */
  readonly running?: RunningJobs | undefined
  /** How retries are spaced (default `DEFAULT_RETRY_POLICY`). */
  readonly retry?: RetryPolicy | undefined
  /** The clock for `run_at` (tests pass a fake one). */
  readonly now?: (() => Date) | undefined
}

// #region worker-loop
/**
 * Runs the worker until its signal aborts or the queue is closed and
 * drained; resolves then. It holds at most one job at a time. Rejects only
 * if the store fails: a handler's failure is the job's, not the worker's.
 */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const { name: worker_id, queue, signal, events } = options
  events?.emit('worker_started', { worker_id })
  try {
    while (!signal.aborted) {
      // Go's `select` on ctx.Done() and the channel: recv takes the signal.
      const received = await queue.recv({ signal }).catch((error: unknown) => {
        if (signal.aborted) return undefined // asked to stop: not a failure
        throw error
      })
      if (received === undefined || !received.ok) return // stop, or drained
      await processJob(options, received.value)
    }
  } finally {
    events?.emit('worker_stopped', { worker_id })
  }
}
// #endregion worker-loop

// #region process-job
/**
 * Claims job `id` and runs one attempt of it (see `runAttempt`). Skips
 * the id, returning undefined, when the job is not pending: another
 * worker has it, a client canceled it, or it is gone.
 */
export async function processJob(
  options: Omit<WorkerOptions, 'signal'>,
  id: string,
): Promise<Job | undefined> {
  const { name: worker_id, store, events } = options
  const running = options.running ?? new RunningJobs()
  // The switch exists before the claim: whoever then sees the job
  // `processing` can cancel it.
  const cancel = running.register(id)
  try {
    const job = await claim(store, id)
    if (job === undefined) {
      events?.emit('job_skipped', { job_id: id, worker_id })
      return undefined
    }
    return await runAttempt(options, job, cancel.signal)
  } finally {
    running.release(id, cancel)
  }
}
// #endregion process-job

// #region one-signal
/**
 * Runs the handler of `job` (just claimed) under ONE signal that aborts on
 * the first of: the job's own timeout, a cancel, the worker's hard stop.
 * Then, and only once the handler has returned, records the outcome.
 */
async function runAttempt(
  options: Omit<WorkerOptions, 'signal'>,
  job: Job,
  cancel: AbortSignal,
): Promise<Job | undefined> {
  const { name: worker_id, handlers, events } = options
  const attempt = { ...jobFields(job), worker_id, attempt: job.attempts }
  const timeout = startTimeout(job.timeout_ms, () => {
    events?.emit('job_timed_out', { ...attempt, timeout_ms: job.timeout_ms })
  })
  const sources = [cancel, timeout.signal, options.jobSignal]
  const signal = AbortSignal.any(sources.filter((s) => s !== undefined))
  events?.emit('job_started', attempt)
  const startedAt = performance.now()
  let failure: { error: unknown } | undefined
  try {
    const type = handlers.get(job.type)
    if (type === undefined) {
      throw new UnknownJobTypeError(job.type, handlers.names)
    }
    await type.run(job, { signal })
  } catch (error) {
    failure = { error }
  } finally {
    timeout.clear()
  }
  // The handler has returned: no work of this attempt runs on. Recording
  // the outcome takes no signal, least of all the aborted one.
  const duration_ms = Math.round(performance.now() - startedAt)
  const ended = { ...attempt, duration_ms }
  if (failure === undefined) {
    // It did its work, even if its signal aborted meanwhile: failing it
    // now would run that work again.
    const { store } = options
    const done = await store.transition(job.id, 'processing', 'completed')
    if (done !== undefined) events?.emit('job_completed', ended)
    return done
  }
  // It failed. If its signal aborted, the abort is why; a cancel wins
  // over the others: its client wants the job never run again.
  if (cancel.aborted) return recordCanceled(options, job, ended)
  const { jobSignal } = options
  if (jobSignal?.aborted && signal.reason === jobSignal.reason) {
    // The service stopped it, not its own failure: back in line.
    const requeued = await options.store.transition(job.id, 'processing', 'pending')
    if (requeued !== undefined) events?.emit('job_requeued', ended)
    return requeued
  }
  if (signal.aborted) failure = { error: signal.reason } // timed out
  return recordFailure(options, job, failure.error, ended)
}
// #endregion one-signal

// #region record-failure
/**
 * A failed attempt: back to wait as `retrying` until `run_at` if the job
 * has retries left, else `failed` for good. A job whose type has no
 * handler fails for good at once: retrying cannot help it.
 */
async function recordFailure(
  options: Omit<WorkerOptions, 'signal'>,
  job: Job,
  error: unknown,
  ended: EndedAttempt,
): Promise<Job | undefined> {
  const { store, events, retry = DEFAULT_RETRY_POLICY } = options
  const last_error = messageOf(error)
  const retryable = !(error instanceof UnknownJobTypeError)
  if (retryable && hasRetriesLeft(job)) {
    const now = (options.now ?? (() => new Date()))()
    const delay = backoffDelay(job.attempts, retry)
    const run_at = new Date(now.getTime() + delay).toISOString()
    const next = await store.transition(job.id, 'processing', 'retrying', {
      last_error,
      run_at,
    })
    if (next === undefined) return undefined
    events?.emit('job_failed', { ...ended, error: last_error, final: false })
    events?.emit('job_retried', {
      ...jobFields(job),
      attempt: job.attempts,
      run_at,
    })
    return next
  }
  const failed = await store.transition(job.id, 'processing', 'failed', {
    last_error,
  })
  if (failed !== undefined) {
    events?.emit('job_failed', { ...ended, error: last_error, final: true })
  }
  return failed
}
// #endregion record-failure

type EndedAttempt = {
  readonly job_id: string
  readonly type: string
  readonly worker_id: string
  readonly attempt: number
  readonly duration_ms: number
}

async function recordCanceled(
  options: Omit<WorkerOptions, 'signal'>,
  job: Job,
  ended: EndedAttempt,
): Promise<Job | undefined> {
  const canceled = await options.store.transition(
    job.id,
    'processing',
    'canceled',
  )
  if (canceled !== undefined) options.events?.emit('job_canceled', ended)
  return canceled
}

// #region timeout
/**
 * A signal that aborts with a `JobTimeoutError` after `ms`, calling
 * `onTimeout` first. `clear()` stops the timer: call it when the attempt
 * ends, or the timer would outlive it. Not `AbortSignal.timeout()`: its
 * timer cannot be cleared, and fake timers do not drive it.
 */
export function startTimeout(
  ms: number,
  onTimeout: () => void = () => {},
): { readonly signal: AbortSignal; clear(): void } {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    onTimeout()
    controller.abort(new JobTimeoutError(ms))
  }, ms)
  return { signal: controller.signal, clear: () => clearTimeout(timer) }
}
// #endregion timeout

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
