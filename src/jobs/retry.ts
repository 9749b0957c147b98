/**
 * When a failed attempt runs again: exponential backoff with jitter. Pure
 * functions of the attempt number, the policy and a random number, so a
 * test that passes a seeded generator gets the same delays every run.
 */

// #region policy
/** How retries are spaced (`RETRY_BASE_MS`, `RETRY_MAX_MS`). */
export interface RetryPolicy {
  /** The delay before the first retry, before jitter, in ms. */
  readonly baseMs: number
  /** The longest delay, in ms: the doubling stops here. */
  readonly maxMs: number
  /** Numbers in [0, 1); `Math.random` unless a test seeds one. */
  readonly random: () => number
}

/** One second, doubling up to a minute, jittered by `Math.random`. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 1_000,
  maxMs: 60_000,
  random: Math.random,
}
// #endregion policy

// #region backoff
/**
 * The delay before the retry that follows failed attempt `attempt` (1 for
 * the first): the ceiling `baseMs · 2^(attempt - 1)`, capped at `maxMs`,
 * then "equal jitter": half the ceiling for sure, plus a random share of
 * the other half. The fixed half keeps the backoff growing; the random
 * half spreads out jobs that failed together, so they do not all come
 * back at the same instant and fail together again.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const { baseMs, maxMs, random } = policy
  const exponent = Math.min(Math.max(attempt - 1, 0), 52) // 2^52 is plenty
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent)
  const half = ceiling / 2
  return Math.round(half + random() * half)
}
// #endregion backoff

/**
 * Whether a job that has made `attempts` attempts may try again: the first
 * attempt is not a retry, so `max_retries: 3` allows four attempts.
 */
export function hasRetriesLeft(job: {
  readonly attempts: number
  readonly max_retries: number
}): boolean {
  return job.attempts <= job.max_retries
}
