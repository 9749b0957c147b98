/**
 * The sweeper: a task that, every `SWEEPER_INTERVAL`, puts the ids of the
 * jobs whose retry is due back on the queue. It never waits for room: a
 * full queue ends the pass, and the jobs it could not enqueue stay
 * `retrying` in the store for the next one. Nothing is dropped.
 */
import { sleep } from '../concurrency/abort.ts'
import { jobFields, type JobEvents } from './events.ts'
import type { Job } from './job.ts'
import type { JobQueue } from './queue.ts'
import type { JobStore } from './store.ts'

/** What a sweep needs. */
export interface SweepOptions {
  readonly store: JobStore
  readonly queue: JobQueue
  readonly events?: JobEvents | undefined
  /** The clock that says which retries are due (tests pass a fake one). */
  readonly now?: (() => Date) | undefined
}

/** What one pass did. */
export interface SweepResult {
  /** Jobs moved to `pending` and put on the queue. */
  readonly enqueued: number
  /** Due jobs left `retrying` because the queue was full. */
  readonly left: number
}

// #region sweep
/**
 * One pass: moves each due `retrying` job (earliest `run_at` first) to
 * `pending` and sends its id with `trySend`, until the queue is full.
 */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  const { store, queue, events } = options
  const now = (options.now ?? (() => new Date()))().toISOString()
  const due = (await store.list({ status: 'retrying' }))
    .filter((job) => job.run_at <= now) // RFC 3339 UTC sorts as text
    .sort((a, b) => (a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : 0))
  let enqueued = 0
  for (const job of due) {
    if (isFull(queue)) break // the rest wait for the next pass
    const ready = await store.transition(job.id, 'retrying', 'pending')
    if (ready === undefined) continue // canceled since we listed it
    if (!(await enqueueOrPutBack(store, queue, ready))) break
    enqueued += 1
    events?.emit('job_enqueued', jobFields(ready))
  }
  return { enqueued, left: due.length - enqueued }
}
// #endregion sweep

// #region put-back
/**
 * Sends the id of `job`, just made `pending`. The queue had room before
 * we awaited the store, but a request may have taken it since: then the
 * job goes back to `retrying` (due now), so that no `pending` job is ever
 * left off the queue, where nothing would run it.
 */
async function enqueueOrPutBack(
  store: JobStore,
  queue: JobQueue,
  job: Job,
): Promise<boolean> {
  let sent = false
  try {
    sent = queue.trySend(job.id)
  } finally {
    if (!sent) await store.transition(job.id, 'pending', 'retrying')
  }
  return sent
}
// #endregion put-back

/** Whether `trySend` would refuse: a buffer, full (so no one waits). */
function isFull(queue: JobQueue): boolean {
  return queue.capacity > 0 && queue.length >= queue.capacity
}

/** What the sweeper task needs. */
export interface SweeperOptions extends SweepOptions {
  /** Time between passes (`SWEEPER_INTERVAL`), in ms. */
  readonly intervalMs: number
  /** Aborting it ends the sweeper, after the pass it is in. */
  readonly signal: AbortSignal
}

// #region run-sweeper
/**
 * Sweeps at once, then every `intervalMs`, until `signal` aborts; resolves
 * then. Spawn it as a task with an owner: the service starts it after the
 * workers and stops it, and waits for it, before it closes the queue.
 * Rejects only if the store fails.
 */
export async function runSweeper(options: SweeperOptions): Promise<void> {
  const { signal, intervalMs } = options
  while (!signal.aborted) {
    await sweep(options)
    // Abort ends the wait early; that is the stop, not a failure.
    await sleep(intervalMs, { signal }).catch(() => {})
  }
}
// #endregion run-sweeper
