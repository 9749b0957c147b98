/**
 * The lease keeper: one task per instance that renews, in one statement,
 * the lease of every attempt the instance holds, at a third of the lease's
 * length (so two heartbeats may fail before a lease runs out). What a
 * heartbeat finds is acted on at once: a lease that is gone aborts its
 * handler (its result would be refused anyway), and a cancel another
 * instance asked for aborts it too.
 */
import { sleep } from '../concurrency/abort.ts'
import { JobCanceledError, LeaseLostError } from './errors.ts'
import type { JobEvents } from './events.ts'
import type { RunningJobs } from './running.ts'
import type { JobStore } from './store/contract.ts'

/** What the lease keeper needs. */
export interface LeaseKeeperOptions {
  readonly store: JobStore
  readonly running: RunningJobs
  /** How long each renewal makes a lease last (ms). */
  readonly leaseMs: number
  /** Aborting it stops the keeper (after the workers have stopped). */
  readonly signal: AbortSignal
  readonly events?: JobEvents | undefined
  /** Hears about a heartbeat that failed (it is tried again next time). */
  readonly onError?: ((error: unknown) => void) | undefined
}

/** Renews the held leases once, and acts on what it finds. */
export async function heartbeat(options: LeaseKeeperOptions): Promise<void> {
  // #region heartbeat
  const { store, running, leaseMs, events } = options
  const leases = running.leases()
  if (leases.length === 0) return
  const held = new Map(
    (await store.heartbeat(leases, leaseMs)).map((h) => [h.id, h]),
  )
  for (const lease of leases) {
    const found = held.get(lease.id)
    if (found === undefined) {
      // Rescued (we were too slow), or finished meanwhile: in the second
      // case nothing is held any more, and `abort` does nothing.
      if (running.abort(lease.id, new LeaseLostError(lease.id))) {
        events?.emit('job_lease_lost', {
          job_id: lease.id,
          type: typeOf(running, lease.id),
          worker_id: lease.owner,
          attempt: lease.attempt,
        })
      }
    } else if (found.cancelRequested) {
      running.abort(lease.id, new JobCanceledError(lease.id))
    }
  }
  // #endregion heartbeat
}

/** Heartbeats every `leaseMs / 3` until `signal` aborts. */
export async function runLeaseKeeper(options: LeaseKeeperOptions): Promise<void> {
  const { signal } = options
  const intervalMs = Math.max(1, Math.floor(options.leaseMs / 3))
  while (!signal.aborted) {
    await sleep(intervalMs, { signal }).catch(() => {})
    if (signal.aborted) return
    await heartbeat(options).catch((error: unknown) => options.onError?.(error))
  }
}

function typeOf(running: RunningJobs, id: string): string {
  return running.get(id)?.job.type ?? 'unknown'
}
