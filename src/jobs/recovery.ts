/**
 * Startup recovery: after a restart, the store may hold jobs that the last
 * process accepted and never finished. `recoverJobs` puts the ones it was
 * running back to `pending` and lists every `pending` one; `feedQueue`
 * enqueues them as a producer task that waits for room, so recovery never
 * needs more room than the queue has.
 *
 * How service.ts uses this (start order: store, recovery, queue, workers,
 * HTTP; the feeder is a producer, stopped first at shutdown):
 *
 *   const recovered = await recoverJobs(store) // before any worker runs
 *   pool = new WorkerPool({ ... })
 *   feeder = feedQueue(queue, recovered.ids)   // a task: waits for room
 *   // ...HTTP...; at shutdown: producers: [feeder, sweeper]
 *
 * It assumes this process is the only one working from the store: a
 * `processing` job found at start was left by a process that is gone.
 */
import { spawn, type Task } from '../concurrency/task.ts'
import type { JobQueue } from './queue.ts'
import type { JobStore } from './store.ts'

// #region requeue
/**
 * Puts job `id` back in line: `processing → pending`, a compare-and-set
 * like every transition. For a job whose run was cut short (by a crash,
 * or by a shutdown's deadline). Returns the job, or undefined if it was
 * not `processing`. Takes no signal: this write must happen even when the
 * work it follows was aborted.
 */
export function requeue(
  store: Pick<JobStore, 'transition'>,
  id: string,
): ReturnType<JobStore['transition']> {
  return store.transition(id, 'processing', 'pending')
}
// #endregion requeue

/** What `recoverJobs` found and changed. */
export interface Recovered {
  /** Jobs that were `processing` and are `pending` again. */
  readonly requeued: readonly string[]
  /** Every `pending` job's id, in creation order: what to enqueue. */
  readonly ids: readonly string[]
}

// #region recover
/**
 * Prepares the store for a new start: every `processing` job goes back to
 * `pending` (no worker of this process runs it), and the ids of all
 * `pending` jobs are returned, for `feedQueue`. Finished jobs are not
 * touched. It enqueues nothing: call it before the workers start, then
 * hand the ids to a feeder, which can wait for room.
 */
export async function recoverJobs(
  store: Pick<JobStore, 'list' | 'transition'>,
): Promise<Recovered> {
  const requeued: string[] = []
  for (const job of await store.list({ status: 'processing' })) {
    if (await requeue(store, job.id)) requeued.push(job.id)
  }
  const pending = await store.list({ status: 'pending' })
  return { requeued, ids: pending.map((job) => job.id) }
}
// #endregion recover

/** How a feeder ended. */
export interface FeedResult {
  /** Ids put on the queue. */
  readonly sent: number
  /** Ids not sent because the feeder was stopped; they stay `pending`. */
  readonly unsent: number
}

// #region feed
/**
 * Starts a task that sends `ids` to `queue` in order, each waiting for
 * room (`send`, never `trySend`): as workers free room, the rest goes in,
 * none dropped and none sent twice. Aborting the task (or `signal`, its
 * owner's) stops it between or during sends; what it did not send stays
 * `pending` in the store for the next start. The task rejects only if the
 * queue is closed under it, which means a shutdown closed the queue
 * before stopping this producer.
 *
 * A job that stopped being `pending` after it was listed (canceled,
 * say) is still sent: the worker that receives it cannot claim it, and
 * skips it.
 */
export function feedQueue(
  queue: Pick<JobQueue, 'send'>,
  ids: readonly string[],
  options: { readonly signal?: AbortSignal | undefined } = {},
): Task<FeedResult> {
  return spawn(
    'recovery-feeder',
    async (signal) => {
      let sent = 0
      try {
        for (const id of ids) {
          await queue.send(id, { signal })
          sent += 1
        }
      } catch (error) {
        // Stopped by its owner: not a failure. Anything else is.
        if (!(signal.aborted && error === signal.reason)) throw error
      }
      return { sent, unsent: ids.length - sent }
    },
    options,
  )
}
// #endregion feed
