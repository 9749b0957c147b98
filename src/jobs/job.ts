/**
 * The job: what a client asked for, and where it is in its life. The
 * statuses and the moves between them live in one table, `TRANSITIONS`;
 * every status change in the service goes through `transition()`.
 */
import { InvalidPayloadError } from './errors.ts'

// #region transitions
/**
 * The legal moves, from each status to the statuses it may become. A
 * status with no way out is finished. This table is the only place that
 * says which change is legal: both stores check their writes against it.
 */
export const TRANSITIONS = {
  // Waiting to be claimed: a worker claims it, or a client cancels it.
  pending: ['processing', 'canceled'],
  // A worker runs it; a failed attempt with tries left waits as `retrying`;
  // an attempt the service cut short (a stop) goes back to `pending`.
  processing: ['completed', 'failed', 'retrying', 'canceled', 'pending'],
  // Waiting for `run_at`; from then on, claimable like a pending job.
  retrying: ['processing', 'canceled'],
  completed: [],
  failed: [],
  canceled: [],
} as const satisfies Record<string, readonly string[]>

/** Where a job can be; `completed`, `failed` and `canceled` are final. */
export type JobStatus = keyof typeof TRANSITIONS

/** The statuses a job in status `From` may move to (never if none). */
export type NextStatus<From extends JobStatus> =
  (typeof TRANSITIONS)[From][number]
// #endregion transitions

/** Every status, in the table's order (for validation and messages). */
export const JOB_STATUSES = Object.keys(TRANSITIONS) as JobStatus[]

/** Whether `value` names a status. */
export function isJobStatus(value: string): value is JobStatus {
  return Object.hasOwn(TRANSITIONS, value)
}

/** Whether `job` is in `status`; narrows its type for `transition`. */
export function hasStatus<S extends JobStatus>(
  job: Job,
  status: S,
): job is Job & { readonly status: S } {
  return job.status === status
}

/** Whether a job in `status` is done for good: no transition leaves it. */
export function isFinished(status: JobStatus): boolean {
  return TRANSITIONS[status].length === 0
}

/**
 * Thrown when a status change is not in `TRANSITIONS`. Where both statuses
 * are known when the code is written, the types reject it before it runs.
 */
export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError'
  constructor(
    readonly from: JobStatus,
    readonly to: JobStatus,
  ) {
    super(`illegal transition: ${from} → ${to}`)
  }
}

/** Whether the table allows a job in `from` to move to `to`. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return (TRANSITIONS[from] as readonly JobStatus[]).includes(to)
}

// #region job
/**
 * A job as the store keeps it and the API shows it (hence snake_case).
 * Immutable: a change makes a new record, so a reader's copy never
 * changes under it.
 */
export interface Job {
  readonly id: string
  /** The name of the handler that runs it (see `handlers.ts`). */
  readonly type: string
  /** The handler's input, any JSON value; stored as data, never run. */
  readonly payload: unknown
  readonly status: JobStatus
  /** How many times a worker has started it. */
  readonly attempts: number
  /** How many failed attempts may be retried (0 to `MAX_RETRIES_LIMIT`). */
  readonly max_retries: number
  /** How long one attempt may run before its signal aborts, in ms. */
  readonly timeout_ms: number
  /** The message of the last failure, or null. */
  readonly last_error: string | null
  /**
   * When it may run next (RFC 3339, UTC): later than now while retrying.
   */
  readonly run_at: string
  readonly created_at: string
  readonly updated_at: string
}
// #endregion job

/** What a client provides to create a job. */
export interface NewJob {
  readonly type: string
  readonly payload?: unknown
  /** Default `DEFAULT_MAX_RETRIES`. */
  readonly max_retries?: number | undefined
  /** Default `DEFAULT_TIMEOUT_MS` (the service passes `JOB_TIMEOUT_MS`). */
  readonly timeout_ms?: number | undefined
}

/** The retries a job gets unless it asks for others. */
export const DEFAULT_MAX_RETRIES = 3

/** The most retries a job may ask for. */
export const MAX_RETRIES_LIMIT = 10

/** An attempt's time limit unless the job or `JOB_TIMEOUT_MS` says (2 min). */
export const DEFAULT_TIMEOUT_MS = 120_000

/** The longest time limit a job may ask for (one hour). */
export const MAX_TIMEOUT_MS = 3_600_000

/**
 * How deep a payload may nest. `JSON.parse` accepts any depth, but copying
 * or printing a very deep value overflows the stack: such a job could never
 * be shown again.
 */
export const MAX_PAYLOAD_DEPTH = 32

/**
 * Throws `InvalidPayloadError` for a payload no store can keep: one that
 * nests deeper than `MAX_PAYLOAD_DEPTH`, or holds text that is valid JSON
 * but not valid PostgreSQL `jsonb`: a NUL character (`\u0000`), or half
 * a surrogate pair (`\ud800` alone), which is not Unicode.
 */
export function checkPayload(payload: unknown): void {
  if (
    typeof payload === 'object' &&
    payload !== null &&
    depthOf(payload) > MAX_PAYLOAD_DEPTH
  ) {
    throw new InvalidPayloadError(
      `payload nests deeper than ${MAX_PAYLOAD_DEPTH} levels`,
    )
  }
  const problem = textProblem(payload)
  if (problem !== undefined) throw new InvalidPayloadError(problem)
}

/**
 * A new `pending` job, frozen, with its payload deep-copied and frozen.
 * Throws `InvalidPayloadError` for a payload `checkPayload` refuses.
 */
export function newJob(input: NewJob, id: string, now: Date): Job {
  checkPayload(input.payload)
  const at = isoString(now)
  return Object.freeze({
    id,
    type: input.type,
    payload: frozenCopy(input.payload ?? null),
    status: 'pending',
    attempts: 0,
    max_retries: input.max_retries ?? DEFAULT_MAX_RETRIES,
    timeout_ms: input.timeout_ms ?? DEFAULT_TIMEOUT_MS,
    last_error: null,
    run_at: at,
    created_at: at,
    updated_at: at,
  })
}

/** The fields a transition may change besides the status. */
export interface TransitionChanges {
  readonly last_error?: string | null
  /** RFC 3339; a retry sets when the next attempt may start. */
  readonly run_at?: string
}

// #region transition
/**
 * The job after moving to `to`: a new frozen record, `updated_at` set,
 * `attempts` counted when it starts processing. Throws
 * `IllegalTransitionError` when the table forbids the move; with literal
 * statuses, the compiler forbids it first:
 *
 * `transition(job as Job & { status: 'completed' }, 'pending', now)` does
 * not compile, because `NextStatus<'completed'>` is `never`.
 */
export function transition<From extends JobStatus>(
  job: Job & { readonly status: From },
  to: NextStatus<From>,
  now: Date,
  changes: TransitionChanges = {},
): Job {
  const target: JobStatus = to
  if (!canTransition(job.status, target)) {
    throw new IllegalTransitionError(job.status, target)
  }
  return Object.freeze({
    ...job,
    ...changes,
    status: target,
    attempts: target === 'processing' ? job.attempts + 1 : job.attempts,
    updated_at: isoString(now),
  })
}
// #endregion transition

/**
 * `date.toISOString()`, remembered for the last millisecond it was asked
 * for: a busy service writes several records within one millisecond, and
 * formatting the date was the largest cost a profile found in
 * `transition`.
 */
export function isoString(date: Date): string {
  const ms = date.getTime()
  if (ms !== lastIso.ms) lastIso = { ms, text: date.toISOString() }
  return lastIso.text
}
let lastIso = { ms: Number.NaN, text: '' }

/** How many levels of objects and arrays `value` nests; 0 for a scalar. */
export function depthOf(value: unknown): number {
  // Iterative: the input may be deep enough to overflow a recursion.
  let deepest = 0
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [next, depth] = stack.pop() as [unknown, number]
    if (typeof next !== 'object' || next === null) continue
    deepest = Math.max(deepest, depth + 1)
    if (deepest > MAX_PAYLOAD_DEPTH) return deepest
    for (const child of Object.values(next)) stack.push([child, depth + 1])
  }
  return deepest
}

/** What makes a string in `value` (a key or a value) unstorable, if any. */
function textProblem(value: unknown): string | undefined {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const next = stack.pop()
    if (typeof next === 'string') {
      const problem = stringProblem(next)
      if (problem !== undefined) return problem
    }
    if (typeof next !== 'object' || next === null) continue
    for (const [key, child] of Object.entries(next)) {
      const problem = stringProblem(key)
      if (problem !== undefined) return problem
      stack.push(child)
    }
  }
  return undefined
}

// With the u flag, a whole pair is one code point: only a half matches.
const LONE_SURROGATE = /\p{Surrogate}/u

/**
 * `text` as a store can keep it: a NUL or half a surrogate pair, which
 * PostgreSQL's `text` cannot hold, becomes U+FFFD. For error texts, which
 * a handler may make from anything and which must not cost the outcome.
 */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\ufffd')
}

const UNSTORABLE = /\0|\p{Surrogate}/gu

function stringProblem(text: string): string | undefined {
  if (text.includes('\0')) return 'payload must not contain \\u0000'
  if (LONE_SURROGATE.test(text)) {
    return 'payload must be valid Unicode: half a surrogate pair (\\ud800) is not'
  }
  return undefined
}

/** A deep copy of `value`, frozen; a scalar is its own copy. */
function frozenCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  return deepFreeze(structuredClone(value))
}

/** Freezes `value` and everything it holds. */
export function deepFreeze<T>(value: T): T {
  // Iterative, so a deep payload cannot overflow the stack here.
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const next = stack.pop()
    if (typeof next === 'object' && next !== null && !Object.isFrozen(next)) {
      Object.freeze(next)
      for (const child of Object.values(next)) stack.push(child)
    }
  }
  return value
}
