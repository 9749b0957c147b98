/**
 * Job types are handlers registered by name. A job's `type` picks its
 * handler; the handler checks the payload when the job is created (so a
 * bad one is refused at once) and does the work when a worker runs it.
 */
import { sleep } from '../concurrency/abort.ts'
import { InvalidPayloadError, UnknownJobTypeError } from './errors.ts'
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
export type Handler = (job: Job, context: HandlerContext) => Promise<unknown>

/** A job type: how to check its payload, and how to run it. */
export interface JobType {
  /** Throws `InvalidPayloadError` when a payload does not suit the type. */
  readonly validate?: (payload: unknown) => void
  readonly run: Handler
}
// #endregion handler

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

  /** The registered names, sorted. */
  get names(): string[] {
    return [...this.#types.keys()].sort()
  }

  /**
   * Checks a new job before it is stored: throws `UnknownJobTypeError` if
   * no handler has its type, or the handler's `InvalidPayloadError`.
   */
  check(input: NewJob): void {
    const type = this.#types.get(input.type)
    if (type === undefined) {
      throw new UnknownJobTypeError(input.type, this.names)
    }
    type.validate?.(input.payload)
  }
}

/** The longest a `sleep` job may sleep, in milliseconds (one minute). */
export const MAX_SLEEP_MS = 60_000

// #region sleep
/**
 * `sleep`: simulates I/O-bound work by waiting `payload.ms` milliseconds,
 * and stops early, rejecting with the signal's reason, when it aborts.
 */
export const sleepJob: JobType = {
  validate(payload) {
    const ms = isRecord(payload) ? payload['ms'] : undefined
    if (!isIntegerIn(ms, 0, MAX_SLEEP_MS)) {
      throw new InvalidPayloadError(
        `sleep needs payload.ms, an integer from 0 to ${MAX_SLEEP_MS}`,
      )
    }
  },
  async run(job, { signal }) {
    const { ms } = job.payload as { ms: number }
    await sleep(ms, { signal })
  },
}
// #endregion sleep

/** A registry with the demonstration types the service ships: `sleep`. */
export function defaultHandlers(): HandlerRegistry {
  return new HandlerRegistry().register('sleep', sleepJob)
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return false
  return value >= min && value <= max
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
