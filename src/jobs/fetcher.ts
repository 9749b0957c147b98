/**
 * The fetcher: one task per instance that claims jobs from the store for
 * the workers that are idle, and hands each to one of them over the local
 * channel. It claims only as many as there are idle workers, so a claimed
 * job never waits here while other instances could run it.
 *
 * It sleeps until something may have changed: a job was created (here, or
 * in another instance: a notification), a worker became idle, a retry
 * fell due, or the poll interval passed (the fallback that covers a lost
 * notification).
 */
import { Channel } from '../concurrency/channel.ts'
import { messageOf } from './errors.ts'
import { jobFields, type JobEvents } from './events.ts'
import type { RunningJobs } from './running.ts'
import type { ClaimedJob, ClaimOptions, JobStore } from './store/contract.ts'
import type { HandOff } from './worker.ts'

/** What a fetcher needs. */
export interface FetcherOptions {
  /** Who holds the leases it takes: this instance. */
  readonly owner: string
  readonly store: JobStore
  readonly queue: HandOff
  readonly running: RunningJobs
  /** How many workers wait for a job now. */
  readonly idleWorkers: () => number
  /** How long a lease lasts before the rescuer may take it back (ms). */
  readonly leaseMs: number
  /** The longest sleep between two claims (ms): the fallback poll. */
  readonly pollMs: number
  /** The most jobs of a type held at once, by type (e.g. `hash`: 1). */
  readonly typeLimits?: ReadonlyMap<string, number> | undefined
  /** Wakes the fetcher early; `wakeUp(fetcher)` sends to it. */
  readonly wake: Channel<void>
  /** Aborting it stops the fetcher; it gives back what it had claimed. */
  readonly signal: AbortSignal
  readonly events?: JobEvents | undefined
  /** Hears about a claim that failed (the store is out of reach, say). */
  readonly onError?: ((error: unknown) => void) | undefined
}

/** A coalescing wake-up: many calls before the fetcher looks are one. */
export function createWake(): Channel<void> {
  return new Channel<void>(1)
}

/** Wakes the fetcher that waits on `wake`, without ever waiting itself. */
export function wakeUp(wake: Channel<void>): void {
  wake.trySend(undefined)
}

/**
 * Claims for idle workers until `signal` aborts. A claim that fails is
 * reported and tried again after a backoff (up to 5 s): a database that
 * restarts costs a pause, not the fetcher.
 */
// #region fetcher-loop
export async function runFetcher(options: FetcherOptions): Promise<void> {
  const { signal, wake } = options
  const wakeUps = armWakeUps(options) // a stop or a poll wakes it too
  let backoffMs = 0
  try {
    while (!signal.aborted) {
      const wanted = options.idleWorkers()
      let claimed: ClaimedJob[] = []
      if (wanted > 0) {
        try {
          claimed = await claim(options, wanted)
          backoffMs = 0
        } catch (error) {
          options.onError?.(error)
          backoffMs = Math.min(Math.max(backoffMs * 2, 100), 5_000)
          await backOff(wake, backoffMs)
          continue
        }
        await handOff(options, claimed)
        // As many as asked: more may be due. Claim again before sleeping.
        if (claimed.length === wanted) continue
      }
      await waitForWake(wake, wakeUps.poll)
    }
  } finally {
    wakeUps.disarm()
  }
}
// #endregion fetcher-loop

/**
 * The fetcher's wake-ups besides a new job: its stop, through one
 * listener for the whole run, and its poll, through one timer re-armed at
 * each sleep (made per sleep, twice per job, they were a profile's cost).
 */
function armWakeUps(options: FetcherOptions): {
  readonly poll: ReturnType<typeof setTimeout>
  disarm(): void
} {
  const { signal, pollMs, wake } = options
  const onAbort = () => wakeUp(wake)
  signal.addEventListener('abort', onAbort, { once: true })
  const poll = setTimeout(() => wakeUp(wake), pollMs)
  return {
    poll,
    disarm() {
      clearTimeout(poll)
      signal.removeEventListener('abort', onAbort)
    },
  }
}

/**
 * Claims up to `wanted` jobs, keeping each limited type under its limit:
 * a type with no room left is excluded, a type with less room than
 * `wanted` is claimed on its own, up to its room.
 */
// #region claim-with-limits
async function claim(
  options: FetcherOptions,
  wanted: number,
): Promise<ClaimedJob[]> {
  const { store, owner, leaseMs, running } = options
  const excludeTypes: string[] = []
  const claimed: ClaimedJob[] = []
  for (const [type, limit] of options.typeLimits ?? []) {
    const room = limit - running.countOf(type)
    excludeTypes.push(type)
    if (room <= 0) continue
    const only: ClaimOptions = { types: [type] }
    const take = Math.min(room, wanted - claimed.length)
    if (take > 0) claimed.push(...(await store.claim(owner, take, leaseMs, only)))
  }
  const rest = wanted - claimed.length
  if (rest > 0) {
    claimed.push(...(await store.claim(owner, rest, leaseMs, { excludeTypes })))
  }
  return claimed
}
// #endregion claim-with-limits

/**
 * Holds each claimed job (so its lease is renewed and a cancel finds it)
 * and sends it to an idle worker. Stopped midway, it gives back the ones
 * no worker took: claimable again at once, by any instance.
 */
// #region hand-off
async function handOff(
  options: FetcherOptions,
  claimed: readonly ClaimedJob[],
): Promise<void> {
  const { queue, running, signal } = options
  const held = claimed.map((job) => running.hold(job))
  let sent = 0
  try {
    for (const attempt of held) {
      await queue.send(attempt, { signal })
      sent += 1
    }
  } catch (error) {
    if (!signal.aborted) throw error
  } finally {
    for (let i = sent; i < held.length; i++) await release(options, held[i]!)
  }
}
// #endregion hand-off

async function release(
  options: FetcherOptions,
  attempt: ReturnType<RunningJobs['hold']>,
): Promise<void> {
  const { store, running, events } = options
  try {
    const reason = 'released: the instance stopped before it started'
    const job = await store.finish(attempt.lease, { kind: 'interrupted', reason })
    if (job !== undefined) {
      events?.emit('job_released', {
        ...jobFields(job),
        attempt: attempt.lease.attempt,
      })
    }
  } catch (error) {
    // Its lease will expire and the rescuer will give it back.
    options.onError?.(new Error(`release failed: ${messageOf(error)}`))
  } finally {
    running.release(attempt)
  }
}

/**
 * Waits for a wake-up; `timer` (armed again here) sends one when its time
 * is up, and the fetcher's stop is one too (see `runFetcher`). No signal
 * is made per sleep, and a wake-up already waiting ends the sleep before
 * it begins. The timer is left armed: if it fires while the fetcher is
 * awake, the fetcher only looks once more.
 */
async function waitForWake(
  wake: Channel<void>,
  timer: ReturnType<typeof setTimeout>,
): Promise<void> {
  if (wake.tryRecv() !== undefined) return
  timer.refresh()
  await wake.recv()
}

/** Waits for a wake-up or `ms`, after a claim that failed. */
async function backOff(wake: Channel<void>, ms: number): Promise<void> {
  const timer = setTimeout(() => wakeUp(wake), ms)
  try {
    await waitForWake(wake, timer)
  } finally {
    clearTimeout(timer)
  }
}
