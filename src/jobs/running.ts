/**
 * The attempts this instance holds: claimed by its fetcher, then run by
 * its workers. Each has one signal, the attempt's only one: a cancel, the
 * time limit, a lost lease and the hard stop all abort it directly, each
 * with its own reason. The lease keeper renews their
 * leases; a cancel finds them here.
 */
import { JobCanceledError } from './errors.ts'
import type { ClaimedJob, Lease } from './store/contract.ts'

/** One attempt held here. */
export interface HeldAttempt {
  readonly job: ClaimedJob['job']
  readonly lease: Lease
  /** The attempt's signal: aborted once, with the reason it must stop. */
  readonly signal: AbortSignal
  /** Whether it was aborted, without making the signal to ask it. */
  readonly aborted: boolean
  /** Why it was aborted (the first reason given), if it was. */
  readonly reason: unknown
  /** Aborts it with `reason`; later aborts change nothing. */
  abort(reason: unknown): void
  /** A client asked to cancel it (even after another abort): it wins. */
  canceled: boolean
}

/**
 * An attempt whose `AbortController` is made the first time its signal is
 * asked for. Node's `AbortSignal` is a large object (several hundred
 * bytes, and a profile's largest allocation per job), and most attempts
 * end with no handler listening and nothing aborting them.
 */
class Attempt implements HeldAttempt {
  readonly job: ClaimedJob['job']
  readonly lease: Lease
  canceled = false
  #controller: AbortController | undefined
  #aborted: { reason: unknown } | undefined

  constructor(claimed: ClaimedJob) {
    this.job = claimed.job
    this.lease = claimed.lease
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#aborted.reason)
    }
    return this.#controller.signal
  }

  get aborted(): boolean {
    return this.#aborted !== undefined
  }

  get reason(): unknown {
    return this.#aborted?.reason
  }

  abort(reason: unknown): void {
    if (this.#aborted) return // the first abort wins
    const why = reason ?? new DOMException('This operation was aborted', 'AbortError')
    this.#aborted = { reason: why }
    this.#controller?.abort(why)
  }
}

// #region running-jobs
/** The attempts one instance holds, by job id. */
export class RunningJobs {
  readonly #attempts = new Map<string, HeldAttempt>()

  /** Holds a claimed job; its signal is new and not aborted. */
  hold(claimed: ClaimedJob): HeldAttempt {
    const attempt = new Attempt(claimed)
    this.#attempts.set(claimed.job.id, attempt)
    return attempt
  }

  /** Lets go of job `id`'s attempt (its outcome is recorded, or lost). */
  release(attempt: HeldAttempt): void {
    if (this.#attempts.get(attempt.job.id) === attempt) {
      this.#attempts.delete(attempt.job.id)
    }
  }

  /** Aborts job `id`'s attempt with `reason`; whether one was held. */
  abort(id: string, reason: unknown): boolean {
    const attempt = this.#attempts.get(id)
    if (attempt === undefined) return false
    if (reason instanceof JobCanceledError) attempt.canceled = true
    attempt.abort(reason)
    return true
  }
  // #endregion running-jobs

  /** Aborts every attempt held (the hard stop). */
  abortAll(reason: unknown): void {
    for (const attempt of this.#attempts.values()) attempt.abort(reason)
  }

  /** The leases of every attempt held, for one heartbeat. */
  leases(): Lease[] {
    return [...this.#attempts.values()].map((attempt) => attempt.lease)
  }

  /** How many attempts of `type` are held (for per-type limits). */
  countOf(type: string): number {
    let count = 0
    for (const attempt of this.#attempts.values()) {
      if (attempt.job.type === type) count += 1
    }
    return count
  }

  /** The attempt held for job `id`, if any. */
  get(id: string): HeldAttempt | undefined {
    return this.#attempts.get(id)
  }

  /** The ids of the jobs held now. */
  ids(): string[] {
    return [...this.#attempts.keys()]
  }

  /** How many attempts are held (0 once every worker is idle). */
  get size(): number {
    return this.#attempts.size
  }
}
