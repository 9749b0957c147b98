/**
 * The worker: a loop that receives claimed jobs from the local hand-off
 * channel, one at a time, runs each job's handler under the attempt's one
 * signal, and records how the attempt ended with a fenced write. It
 * claims nothing itself (the fetcher does) and knows nothing of HTTP.
 */
import type { Channel, Received } from '../concurrency/channel.ts'
import {
  JobInterruptedError,
  JobTimeoutError,
  LeaseLostError,
  messageOf,
  StoreUnavailableError,
  UnknownJobTypeError,
} from './errors.ts'
import { jobFields, type JobEvents } from './events.ts'
import type { HandlerContext, HandlerRegistry } from './handlers.ts'
import type { Job } from './job.ts'
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  hasRetriesLeft,
  type RetryPolicy,
} from './retry.ts'
import type { HeldAttempt, RunningJobs } from './running.ts'
import type { JobStore, Outcome } from './store/contract.ts'

/** The local hand-off: claimed attempts, from the fetcher to the workers. */
export type HandOff = Channel<HeldAttempt>

/** What a worker needs. */
export interface WorkerOptions {
  /** A name for events and logs, e.g. `worker-3`. */
  readonly name: string
  readonly store: JobStore
  readonly queue: HandOff
  readonly handlers: HandlerRegistry
  /** The attempts this instance holds; the fetcher put this one there. */
  readonly running: RunningJobs
  /**
   * Aborting it stops the worker from taking another job. It does NOT stop
   * the job the worker holds: that one runs to its end.
   */
  readonly signal: AbortSignal
  /** Where the worker reports what it does (logs, metrics, tests). */
  readonly events?: JobEvents | undefined
  /** How retries are spaced (default `DEFAULT_RETRY_POLICY`). */
  readonly retry?: RetryPolicy | undefined
  /** Called each time the worker waits for a job (the fetcher's cue). */
  readonly onIdle?: (() => void) | undefined
  /** Called when it has one. */
  readonly onBusy?: (() => void) | undefined
}

/**
 * Runs the worker until its signal aborts or the channel is closed and
 * drained; resolves then. It holds at most one job at a time.
 */
// #region worker-loop
export async function runWorker(options: WorkerOptions): Promise<void> {
  const { name: worker_id, queue, signal, events } = options
  events?.emit('worker_started', { worker_id })
  try {
    while (!signal.aborted) {
      let received: Received<HeldAttempt>
      options.onIdle?.()
      try {
        // Go's `select` on ctx.Done() and the channel, in one recv.
        received = await queue.recv({ signal })
      } catch (error) {
        if (signal.aborted) return // asked to stop: not a failure
        throw error
      } finally {
        options.onBusy?.()
      }
      if (!received.ok) return // closed and drained
      try {
        await runAttempt(options, received.value)
      } catch (error) {
        // A bug, not the job's failure: let go of the attempt, so that
        // its lease runs out and the rescuer gives the job back.
        options.running.release(received.value)
        throw error
      }
    }
  } finally {
    events?.emit('worker_stopped', { worker_id })
  }
}
// #endregion worker-loop

/**
 * Runs one claimed attempt: the handler under the attempt's signal, which
 * aborts on the first of a cancel, the time limit, a lost lease or the
 * hard stop. Then, once the handler has returned, records the outcome.
 * Resolves with the job as recorded, or undefined if it was not.
 */
/** Aborts the attempt when its time is up, and says so first. */
function armTimeout(
  attempt: HeldAttempt,
  fields: AttemptFields,
  events: JobEvents | undefined,
): ReturnType<typeof setTimeout> {
  const { timeout_ms } = attempt.job
  return setTimeout(() => {
    events?.emit('job_timed_out', { ...fields, timeout_ms })
    attempt.abort(new JobTimeoutError(timeout_ms))
  }, timeout_ms)
}

type AttemptFields = {
  readonly job_id: string
  readonly type: string
  readonly worker_id: string
  readonly attempt: number
}

// #region run-attempt
export async function runAttempt(
  options: Omit<WorkerOptions, 'signal'>,
  attempt: HeldAttempt,
): Promise<Job | undefined> {
  const { name: worker_id, handlers, events } = options
  const { job } = attempt
  const fields = {
    job_id: job.id,
    type: job.type,
    worker_id,
    attempt: job.attempts,
  }
  const timer = armTimeout(attempt, fields, events)
  events?.emit('job_started', fields)
  const startedAt = performance.now()
  let failure: { error: unknown } | undefined
  try {
    // Canceled between its claim and now.
    if (attempt.aborted) throw attempt.reason
    const type = handlers.get(job.type)
    if (type === undefined) {
      throw new UnknownJobTypeError(job.type, handlers.names)
    }
    // The signal is made only if the handler looks at it.
    await type.run(job, new AttemptContext(attempt))
  } catch (error) {
    failure = { error }
  } finally {
    clearTimeout(timer)
  }
  // #endregion run-attempt
  // #region after-the-handler
  // The handler has returned: no work of this attempt runs on. Recording
  // the outcome takes no signal, least of all the aborted one.
  const duration_ms = Math.round(performance.now() - startedAt)
  const { job_id, type, attempt: n } = fields
  const ended = { job_id, type, worker_id, attempt: n, duration_ms }
  try {
    const outcome = decide(options, attempt, failure)
    return await record(options, attempt, outcome, ended)
  } finally {
    options.running.release(attempt)
  }
}
// #endregion after-the-handler

/**
 * The outcome of an attempt, from how it ended. A handler that returned
 * did its work, even if its signal aborted meanwhile: failing it now would
 * run that work again. Otherwise the signal's reason says why it stopped.
 */
function decide(
  options: Omit<WorkerOptions, 'signal'>,
  attempt: HeldAttempt,
  failure: { error: unknown } | undefined,
): Outcome | 'lease-lost' {
  // #region decide
  if (failure === undefined) return { kind: 'completed' }
  // It failed. If its signal aborted, the abort is why; a cancel wins
  // over the others: its client wants the job never run again.
  const { job } = attempt
  if (attempt.canceled) return { kind: 'canceled' }
  const reason: unknown = attempt.aborted ? attempt.reason : failure.error
  if (reason instanceof LeaseLostError) return 'lease-lost'
  if (reason instanceof JobInterruptedError) {
    return { kind: 'interrupted', reason: reason.message }
  }
  const error = messageOf(reason)
  // A job whose type has no handler fails for good: retrying cannot help.
  const retryable = !(reason instanceof UnknownJobTypeError)
  if (!retryable || !hasRetriesLeft(job)) return { kind: 'failed', error }
  const policy = options.retry ?? DEFAULT_RETRY_POLICY
  return { kind: 'retry', error, delayMs: backoffDelay(job.attempts, policy) }
  // #endregion decide
}

/** What a handler gets: the attempt's signal, made when first read. */
class AttemptContext implements HandlerContext {
  readonly #attempt: HeldAttempt

  constructor(attempt: HeldAttempt) {
    this.#attempt = attempt
  }

  get signal(): AbortSignal {
    return this.#attempt.signal
  }
}

/** An attempt that has ended, as its events report it. */
interface Ended {
  readonly job_id: string
  readonly type: string
  readonly worker_id: string
  readonly attempt: number
  readonly duration_ms: number
}

/** The longest a failed write of an outcome is retried (ms). */
const FINISH_RETRY_MS = 10_000

// #region record
/**
 * Writes the outcome, fenced by the attempt's lease, and reports it. A
 * refused write (the lease was lost: another attempt owns the job now)
 * is discarded, and said so; nothing is written over the newer attempt.
 */
async function record(
  options: Omit<WorkerOptions, 'signal'>,
  attempt: HeldAttempt,
  outcome: Outcome | 'lease-lost',
  ended: Ended,
): Promise<Job | undefined> {
  const { events } = options
  if (outcome === 'lease-lost') {
    const discarded = { ...ended, outcome: 'lease-lost' as const }
    events?.emit('job_result_discarded', discarded)
    return undefined
  }
  const written = await finishPatiently(options, attempt, outcome, ended)
  if (written === 'unwritten') return undefined
  if (written === undefined) {
    const discarded = { ...ended, outcome: outcome.kind }
    events?.emit('job_result_discarded', discarded)
    return undefined
  }
  report(events, outcome, written, ended)
  return written
}
// #endregion record

/**
 * `store.finish`, tried again with backoff while the store is out of reach
 * (up to `FINISH_RETRY_MS`); then reported and given up: the lease then
 * expires and the rescuer gives the job back.
 */
async function finishPatiently(
  options: Omit<WorkerOptions, 'signal'>,
  attempt: HeldAttempt,
  outcome: Outcome,
  ended: Ended,
): Promise<Job | undefined | 'unwritten'> {
  for (let waitMs = 10, waited = 0; ; waited += waitMs, waitMs *= 2) {
    try {
      return await options.store.finish(attempt.lease, outcome)
    } catch (error) {
      const retry = error instanceof StoreUnavailableError
      if (!retry || waited >= FINISH_RETRY_MS) {
        const fields = { ...ended, error: messageOf(error) }
        options.events?.emit('job_finish_failed', fields)
        return 'unwritten'
      }
      await new Promise((resolve) => setTimeout(resolve, waitMs))
    }
  }
}

function report(
  events: JobEvents | undefined,
  outcome: Outcome,
  job: Job,
  ended: Ended,
): void {
  switch (outcome.kind) {
    case 'completed':
      return events?.emit('job_completed', ended)
    case 'canceled':
      return events?.emit('job_canceled', ended)
    case 'interrupted':
      return events?.emit('job_interrupted', ended)
    case 'failed':
      return events?.emit('job_failed', {
        ...ended,
        error: outcome.error,
        final: true,
      })
    case 'retry':
      events?.emit('job_failed', { ...ended, error: outcome.error, final: false })
      return events?.emit('job_retried', {
        ...jobFields(job),
        attempt: ended.attempt,
        run_at: job.run_at,
      })
  }
}
