/**
 * The worker: a loop that takes job ids off the queue, one at a time,
 * claims each job in the store, runs its handler, and records how it
 * ended. It knows nothing of HTTP: its world is the store, the queue and
 * the handlers.
 */
import { UnknownJobTypeError } from './errors.ts'
import type { HandlerRegistry } from './handlers.ts'
import type { Job } from './job.ts'
import type { JobQueue } from './queue.ts'
import { claim, type JobStore } from './store.ts'

/** What happened, for logs, metrics and tests (`onEvent`). */
export type WorkerEvent =
  | { readonly event: 'worker_started' | 'worker_stopped'; readonly worker: string }
  | {
      readonly event: 'job_started' | 'job_completed' | 'job_failed'
      readonly worker: string
      readonly job: Job
    }
  | { readonly event: 'job_skipped'; readonly worker: string; readonly id: string }

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
  readonly jobSignal?: AbortSignal
  readonly onEvent?: (event: WorkerEvent) => void
}

// #region worker-loop
/**
 * Runs the worker until its signal aborts or the queue is closed and
 * drained; resolves then. It holds at most one job at a time. Rejects only
 * if the store fails: a handler's failure is the job's, not the worker's.
 */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const { name, queue, signal, onEvent } = options
  onEvent?.({ event: 'worker_started', worker: name })
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
    onEvent?.({ event: 'worker_stopped', worker: name })
  }
}
// #endregion worker-loop

// #region process-job
/**
 * Claims job `id` and runs it: `pending → processing`, then `completed`,
 * or `failed` with the error's message. Skips the id (returning undefined)
 * when the job is not pending: someone else has it, or it is gone.
 */
export async function processJob(
  options: Omit<WorkerOptions, 'signal'>,
  id: string,
): Promise<Job | undefined> {
  const { name: worker, store, handlers, onEvent } = options
  const job = await claim(store, id)
  if (job === undefined) {
    onEvent?.({ event: 'job_skipped', worker, id })
    return undefined
  }
  onEvent?.({ event: 'job_started', worker, job })
  const signal = options.jobSignal ?? new AbortController().signal
  let finished: Job | undefined
  try {
    const type = handlers.get(job.type)
    if (type === undefined) {
      throw new UnknownJobTypeError(job.type, handlers.names)
    }
    await type.run(job, { signal })
    finished = await store.transition(id, 'processing', 'completed')
  } catch (error) {
    finished = await store.transition(id, 'processing', 'failed', {
      last_error: messageOf(error),
    })
  }
  if (finished !== undefined) {
    const event = finished.status === 'completed' ? 'job_completed' : 'job_failed'
    onEvent?.({ event, worker, job: finished })
  }
  return finished
}
// #endregion process-job

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
