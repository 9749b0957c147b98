/**
 * Job types are handlers registered by name. A job's `type` picks its
 * handler; the handler checks the payload when the job is created (so a
 * bad one is refused at once) and does the work when a worker runs it.
 */
import { sleep } from '../concurrency/abort.ts'
import {
  InvalidPayloadError,
  TimeoutTooLongError,
  UnknownJobTypeError,
} from './errors.ts'
import type { Job, NewJob } from './job.ts'

// #region handler
/** What a handler gets besides the job. */
export interface HandlerContext {
  /**
   * Aborts when the job must stop. A handler should pass it to whatever it
   * waits on and return (or throw) soon after it aborts.
   */
  readonly signal: AbortSignal
}

/**
 * Does one job's work. Resolves when done (the value is not kept), rejects
 * when the attempt failed: the error's message becomes `last_error`.
 */
export type Handler = (
  job: Job,
  context: HandlerContext,
) => Promise<unknown>
// #endregion handler

// #region job-type
/** A job type: how to check its payload, and how to run it. */
export interface JobType {
  /** Throws `InvalidPayloadError` when a payload does not suit the type. */
  readonly validate?: (payload: unknown) => void
  readonly run: Handler
  /**
   * The most jobs of this type one instance runs at once (default: as many
   * as it has workers). CPU-bound types set it to their threads, so that
   * they never hold every worker while other types wait.
   */
  readonly concurrency?: number
  /**
   * The longest `timeout_ms` a job of this type may ask for; a default
   * above it is lowered to it. Without one, any the API allows.
   */
  readonly maxTimeoutMs?: number
}
// #endregion job-type

/** The job types a service knows, by name. */
export class HandlerRegistry {
  readonly #types = new Map<string, JobType>()

  /** Adds a type; throws a `TypeError` if the name is taken. */
  register(name: string, type: JobType): this {
    if (this.#types.has(name)) {
      throw new TypeError(`job type "${name}" is already registered`)
    }
    this.#types.set(name, type)
    return this
  }

  /** The type registered as `name`, or undefined. */
  get(name: string): JobType | undefined {
    return this.#types.get(name)
  }

  /** The types that set a `concurrency`, with it. */
  limits(): Map<string, number> {
    const limits = new Map<string, number>()
    for (const [name, type] of this.#types) {
      if (type.concurrency !== undefined) limits.set(name, type.concurrency)
    }
    return limits
  }

  /** The registered names, sorted. */
  get names(): string[] {
    return [...this.#types.keys()].sort()
  }

  /**
   * Checks a new job before it is stored: throws `UnknownJobTypeError` if
   * no handler has its type, `TimeoutTooLongError` if it asks for more
   * time than its type allows, or the handler's `InvalidPayloadError`.
   */
  check(input: NewJob): void {
    const type = this.#types.get(input.type)
    if (type === undefined) {
      throw new UnknownJobTypeError(input.type, this.names)
    }
    const max = type.maxTimeoutMs
    if (max !== undefined && (input.timeout_ms ?? 0) > max) {
      throw new TimeoutTooLongError(input.type, max)
    }
    type.validate?.(input.payload)
  }

  /** The time limit of a `name` job that sets none: `fallback`, or less. */
  defaultTimeoutMs(name: string, fallback: number): number {
    const max = this.#types.get(name)?.maxTimeoutMs ?? fallback
    return Math.min(fallback, max)
  }
}

/** The longest a `sleep` job may sleep, in milliseconds (one minute). */
export const MAX_SLEEP_MS = 60_000

// #region sleep
function parseSleepPayload(payload: unknown): { ms: number } {
  const ms = isRecord(payload) ? payload['ms'] : undefined
  if (!isIntegerIn(ms, 0, MAX_SLEEP_MS)) {
    throw new InvalidPayloadError(
      `sleep needs payload.ms, an integer from 0 to ${MAX_SLEEP_MS}`,
    )
  }
  const other = Object.keys(payload as object).filter((key) => key !== 'ms')
  if (other.length > 0) {
    throw new InvalidPayloadError(`sleep: unknown payload field: ${other}`)
  }
  return { ms }
}

/**
 * `sleep`: simulates I/O-bound work by waiting `payload.ms` milliseconds,
 * and stops early, rejecting with the signal's reason, when it aborts.
 */
export const sleepJob: JobType = {
  validate: parseSleepPayload,
  async run(job, { signal }) {
    await sleep(parseSleepPayload(job.payload).ms, { signal })
  },
  // Twice its longest sleep: a longer limit could never matter.
  maxTimeoutMs: 2 * MAX_SLEEP_MS,
}
// #endregion sleep

// #region stubborn
/**
 * `stubborn`: the badly written handler the book needs, a `sleep` that
 * never looks at its signal, so neither a timeout, a cancel nor a stop
 * can end it early. Not in `defaultHandlers()`: only the examples and
 * tests that show what such a handler costs register it.
 */
export const stubbornJob: JobType = {
  validate: parseSleepPayload,
  async run(job) {
    await sleep(parseSleepPayload(job.payload).ms)
  },
}
// #endregion stubborn

/** The most attempts a `fail` job may be told to fail. */
export const MAX_FAIL_TIMES = 1_000

// #region fail
/**
 * `fail`: the original's failure simulation, as a job type. It fails
 * every attempt, or, with `payload.times`, only its first `times`
 * attempts and then succeeds: a job to watch retries with.
 */
export const failJob: JobType = {
  validate(payload) {
    if (payload === null || payload === undefined) return
    const times = isRecord(payload) ? payload['times'] : undefined
    if (!isIntegerIn(times, 0, MAX_FAIL_TIMES)) {
      throw new InvalidPayloadError(
        `fail takes no payload, or payload.times, ` +
          `an integer from 0 to ${MAX_FAIL_TIMES}`,
      )
    }
  },
  async run(job) {
    const times = isRecord(job.payload) ? job.payload['times'] : undefined
    if (typeof times === 'number' && job.attempts > times) return
    throw new Error(`attempt ${job.attempts} failed on purpose`)
  },
  // It fails or succeeds at once: ten seconds is more than it needs.
  maxTimeoutMs: 10_000,
}
// #endregion fail

/**
 * A registry with the demonstration types that need nothing but the event
 * loop: `sleep` and `fail`. (The service adds `hash`, which needs its
 * thread pool.)
 */
export function defaultHandlers(): HandlerRegistry {
  return new HandlerRegistry()
    .register('sleep', sleepJob)
    .register('fail', failJob)
}

function isIntegerIn(
  value: unknown,
  min: number,
  max: number,
): value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return false
  return value >= min && value <= max
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
