/**
 * The rescuer: a task in every instance that, every `RESCUE_INTERVAL`,
 * gives back the jobs whose lease expired (their owner crashed or hung)
 * and prunes finished jobs past their retention. Safe to run in all
 * instances at once: each rescue statement skips the rows another one is
 * moving, and moves a row only while it is still held and expired.
 */
import { sleep } from '../concurrency/abort.ts'
import type { JobEvents } from './events.ts'
import type { JobStore, PrunePolicy, RescuePolicy } from './store/contract.ts'

/** What the rescuer needs. */
export interface RescuerOptions {
  readonly store: JobStore
  /** How rescued jobs are spaced out (the retry backoff's base and cap). */
  readonly policy: RescuePolicy
  /** Which finished jobs to delete, or undefined to keep them all. */
  readonly prune?: PrunePolicy | undefined
  readonly events?: JobEvents | undefined
}

/**
 * One pass: rescue expired leases, then prune; returns how many of
 * each.
 */
export async function rescueOnce(
  options: RescuerOptions,
): Promise<{ rescued: number; pruned: number }> {
  // #region rescue
  const { store, policy, events } = options
  const rescued = await store.rescue(policy)
  for (const { id, type, attempt, owner, status } of rescued) {
    events?.emit('job_rescued', { job_id: id, type, attempt, owner, status })
  }
  const pruned = options.prune ? await store.prune(options.prune) : 0
  return { rescued: rescued.length, pruned }
  // #endregion rescue
}

/** Runs a pass every `intervalMs` until `signal` aborts. */
export async function runRescuer(
  options: RescuerOptions & {
    readonly intervalMs: number
    readonly signal: AbortSignal
    /** Hears about a pass that failed (the next one tries again). */
    readonly onError?: ((error: unknown) => void) | undefined
  },
): Promise<void> {
  const { signal, intervalMs } = options
  while (!signal.aborted) {
    await sleep(intervalMs, { signal }).catch(() => {})
    if (signal.aborted) return
    await rescueOnce(options).catch((error: unknown) => options.onError?.(error))
  }
}
