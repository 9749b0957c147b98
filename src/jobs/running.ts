/**
 * The attempts this instance holds: claimed by its fetcher, then run by
 * its workers. Each has one `AbortController`, the attempt's only signal:
 * a cancel, the time limit, a lost lease and the hard stop all abort it
 * directly, each with its own reason. The lease keeper renews their
 * leases; a cancel finds them here.
 */
import { JobCanceledError } from './errors.ts'
import type { ClaimedJob, Lease } from './store/contract.ts'

/** One attempt held here. */
export interface HeldAttempt {
  readonly job: ClaimedJob['job']
  readonly lease: Lease
  /** Aborted once, with the reason the attempt must stop. */
  readonly controller: AbortController
  /** A client asked to cancel it (even after another abort): it wins. */
  canceled: boolean
}

// #region running-jobs
/** The attempts one instance holds, by job id. */
export class RunningJobs {
  readonly #attempts = new Map<string, HeldAttempt>()

  /** Holds a claimed job; its controller is new and not aborted. */
  hold(claimed: ClaimedJob): HeldAttempt {
    const attempt = {
      ...claimed,
      controller: new AbortController(),
      canceled: false,
    }
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
    attempt.controller.abort(reason)
    return true
  }
  // #endregion running-jobs

  /** Aborts every attempt held (the hard stop). */
  abortAll(reason: unknown): void {
    for (const attempt of this.#attempts.values()) {
      attempt.controller.abort(reason)
    }
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
