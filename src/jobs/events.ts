/**
 * The job lifecycle as events: what the workers and the HTTP layer report,
 * and what logs and metrics subscribe to. The emitters know nothing of
 * their listeners; adding a log line or a metric touches no handler.
 *
 * Events carry ids, names, counts and messages, never a job's payload
 * (it may hold secrets) and never a stack trace. Field names are
 * snake_case, as in the API and the logs.
 */
import { messageOf } from './errors.ts'
import type { Job } from './job.ts'

/** Who ran an attempt, and which attempt it was (1 for the first). */
interface Attempt {
  readonly job_id: string
  readonly type: string
  readonly worker_id: string
  readonly attempt: number
}

// #region events
/** Every event, by name, with the fields it carries. */
export interface JobEventMap {
  /** The job was stored, claimable at once (`POST /jobs`). */
  job_created: {
    readonly job_id: string
    readonly type: string
    /** The `X-Request-Id` of the request that made it, if any. */
    readonly request_id?: string | undefined
  }
  /** A worker has it, under a lease, and its handler starts. */
  job_started: Attempt
  /** The handler resolved; the job is `completed`. */
  job_completed: Attempt & { readonly duration_ms: number }
  /**
   * The attempt failed (the handler threw, or ran out of time). `final`
   * when no retry is left: the job stays `failed` for good.
   */
  job_failed: Attempt & {
    readonly duration_ms: number
    /** The error's message, as `last_error` keeps it; no stack. */
    readonly error: string
    readonly final: boolean
  }
  // #endregion events
  /** A failed job waits as `retrying`, claimable again from `run_at`. */
  job_retried: {
    readonly job_id: string
    readonly type: string
    /** The attempts made so far. */
    readonly attempt: number
    readonly run_at: string
  }
  /**
   * The job was canceled. A running one has a `worker_id` and a
   * `duration_ms`, and is reported once its handler has returned.
   */
  job_canceled: {
    readonly job_id: string
    readonly type: string
    readonly attempt: number
    readonly worker_id?: string | undefined
    readonly duration_ms?: number | undefined
  }
  /**
   * The attempt's time ran out and its signal aborted. A `job_failed`
   * follows when the handler has actually returned.
   */
  job_timed_out: Attempt & { readonly timeout_ms: number }
  /**
   * The service stopped the attempt (a stop's deadline passed): not the
   * job's failure, so it is `pending` again and the attempt not counted.
   */
  job_interrupted: Attempt & { readonly duration_ms: number }
  /** Claimed but never started: given back at a stop, claimable again. */
  job_released: {
    readonly job_id: string
    readonly type: string
    readonly attempt: number
  }
  /**
   * A lease expired (its owner crashed or hung) and the rescuer moved the
   * job on: `retrying`, `failed` when no attempt is left, or `canceled`.
   */
  job_rescued: {
    readonly job_id: string
    readonly type: string
    readonly attempt: number
    /** The owner that lost the lease. */
    readonly owner: string
    readonly status: 'retrying' | 'failed' | 'canceled'
  }
  /** A heartbeat found the lease gone: the handler's signal aborts. */
  job_lease_lost: Attempt
  /**
   * The attempt ended but the store refused its outcome: the lease was
   * lost, and a newer attempt (or the rescuer) owns the job now.
   */
  job_result_discarded: Attempt & { readonly outcome: string }
  /** Recording the outcome failed (the store was unreachable). */
  job_finish_failed: Attempt & { readonly error: string }
  worker_started: { readonly worker_id: string }
  worker_stopped: { readonly worker_id: string }
  /** A worker's loop failed (a bug); the pool starts a new one. */
  worker_crashed: {
    readonly worker_id: string
    readonly error: string
    /** Crashes within the pool's window, this one included. */
    readonly crashes: number
  }
}

/** An event's name. */
export type JobEventName = keyof JobEventMap

/** One event as listeners get it: its name in `event`, then its fields. */
export type JobEvent<Name extends JobEventName = JobEventName> = {
  [N in Name]: { readonly event: N } & JobEventMap[N]
}[Name]

/**
 * The fields of `job` that events carry: its id and its type. Never its
 * payload, which may hold secrets.
 */
export function jobFields(job: Pick<Job, 'id' | 'type'>): {
  readonly job_id: string
  readonly type: string
} {
  return { job_id: job.id, type: job.type }
}

// #region event-names
/** The names of all events, in lifecycle order. */
export const JOB_EVENT_NAMES = [
  'job_created',
  'job_started',
  'job_completed',
  'job_failed',
  'job_retried',
  'job_canceled',
  'job_timed_out',
  'job_interrupted',
  'job_released',
  'job_rescued',
  'job_lease_lost',
  'job_result_discarded',
  'job_finish_failed',
  'worker_started',
  'worker_stopped',
  'worker_crashed',
] as const satisfies readonly JobEventName[]
// #endregion event-names

/** What an event listener gets; its return value is ignored. */
export type JobEventListener<Name extends JobEventName = JobEventName> = (
  event: JobEvent<Name>,
) => void

/** Options of {@link JobEvents}. */
export interface JobEventsOptions {
  /**
   * Called when a listener throws (or returns a promise that rejects).
   * The default prints a process warning.
   */
  readonly onListenerError?: (error: unknown, event: JobEvent) => void
}

// One subscription; its own object, so one function may subscribe twice.
interface Subscription {
  readonly name?: JobEventName
  readonly fn: JobEventListener
}

/**
 * A synchronous, typed event bus for the job lifecycle. `emit` calls each
 * listener in the order it subscribed, and never throws: a listener that
 * fails is reported to `onListenerError`, and the others still run. The
 * emitter (a worker moving a job on) must never fail because a log line
 * or a metric did. Listeners must be quick: they run inside `emit`.
 */
export class JobEvents {
  // Replaced, never changed, on each subscribe and unsubscribe: `emit`
  // iterates a snapshot without copying it on every event.
  #listeners: readonly Subscription[] = []
  readonly #onListenerError: (error: unknown, event: JobEvent) => void

  constructor(options: JobEventsOptions = {}) {
    this.#onListenerError = options.onListenerError ?? warn
  }

  /** Calls `listener` for every event; returns the unsubscribe function. */
  subscribe(listener: JobEventListener): () => void {
    return this.#add({ fn: listener })
  }

  /** Calls `listener` for the events named `name`; returns the unsubscribe. */
  on<Name extends JobEventName>(
    name: Name,
    listener: JobEventListener<Name>,
  ): () => void {
    return this.#add({ name, fn: listener as JobEventListener })
  }

  /**
   * Reports event `name` to its listeners, synchronously. They all get
   * the same frozen object, so none can change what the next one sees.
   */
  // #region emit
  emit<Name extends JobEventName>(
    name: Name,
    fields: JobEventMap[Name],
  ): void {
    // A snapshot: a listener that subscribes or leaves during emit
    // changes the next emit, not this one.
    const listeners = this.#listeners
    if (!heard(listeners, name)) return // nobody listens: nothing to make
    const event = Object.freeze({ event: name, ...fields }) as JobEvent
    for (const listener of listeners) {
      if (listener.name !== undefined && listener.name !== name) continue
      try {
        const result: unknown = listener.fn(event)
        if (isPromiseLike(result)) {
          result.then(undefined, (error) => this.#report(error, event))
        }
      } catch (error) {
        this.#report(error, event)
      }
    }
  }
  // #endregion emit

  /** How many listeners are subscribed (to see that they all left). */
  get listenerCount(): number {
    return this.#listeners.length
  }

  #add(listener: Subscription): () => void {
    this.#listeners = [...this.#listeners, listener]
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener)
    }
  }

  #report(error: unknown, event: JobEvent): void {
    try {
      this.#onListenerError(error, event)
    } catch {
      // The error handler failed too: emit still must not throw.
    }
  }
}

function warn(error: unknown, event: JobEvent): void {
  const message = messageOf(error)
  process.emitWarning(
    `a listener of ${event.event} threw: ${message}`,
    'JobEventListenerWarning',
  )
}

/** Whether one of `listeners` listens for the events named `name`. */
function heard(listeners: readonly Subscription[], name: JobEventName) {
  for (const listener of listeners) {
    if (listener.name === undefined || listener.name === name) return true
  }
  return false
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
