/**
 * The `hash` job type: CPU-bound work (a SHA-256 hash chain) run on a
 * worker thread, so that it never holds the event loop. Also its wrong
 * twin, `hash-blocking`, which runs the same chain on the event loop: a
 * demonstration of what not to do, for the chapter on threads.
 */
import { z } from 'zod'
import { InvalidPayloadError } from '../errors.ts'
import type { JobType } from '../handlers.ts'
import { hashChain } from './hash-chain.mjs'
import type { CpuPool } from './pool.ts'

/** The most rounds a `hash` job may ask for (a few seconds of one core). */
export const MAX_HASH_ROUNDS = 1_000_000

// #region payload
/** A `hash` job's payload: `{ "rounds": 1 .. MAX_HASH_ROUNDS }`. */
export const HashPayload = z.object({
  rounds: z.int().min(1).max(MAX_HASH_ROUNDS),
})

/** A valid `hash` payload. */
export type HashPayload = z.infer<typeof HashPayload>

/** The payload's rounds; throws `InvalidPayloadError` if it is invalid. */
export function parseHashPayload(payload: unknown): HashPayload {
  const parsed = HashPayload.safeParse(payload)
  if (!parsed.success) {
    throw new InvalidPayloadError(
      `hash needs payload.rounds, an integer from 1 to ${MAX_HASH_ROUNDS}`,
    )
  }
  return parsed.data
}
// #endregion payload

// #region hash-job
/**
 * `hash`: the hash chain of `payload.rounds` rounds, on a thread of
 * `pool`. The event loop only waits. When the job's signal aborts, the
 * thread is terminated and the handler rejects with the signal's reason.
 */
export function hashJob(pool: CpuPool): JobType {
  return {
    validate: parseHashPayload,
    run(job, { signal }) {
      const { rounds } = parseHashPayload(job.payload)
      return pool.hash(rounds, { signal })
    },
  }
}
// #endregion hash-job

// #region blocking-job
/**
 * `hash-blocking`, the wrong way: the same chain on the event loop. While
 * it runs, nothing else in the process does (no request, no timer, no
 * other job), and its signal cannot stop it: it is checked only before.
 */
export const blockingHashJob: JobType = {
  validate: parseHashPayload,
  async run(job, { signal }) {
    const { rounds } = parseHashPayload(job.payload)
    signal.throwIfAborted()
    return hashChain(rounds)
  },
}
// #endregion blocking-job
