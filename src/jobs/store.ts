/**
 * The store is the source of truth for jobs: the queue carries only ids,
 * and whoever needs a job reads it here. Any implementation must make
 * `transition` a compare-and-set: it changes a job only if its status is
 * still the expected one, all in one step.
 */
import type {
  Job,
  JobStatus,
  NewJob,
  NextStatus,
  TransitionChanges,
} from './job.ts'

/** Which jobs `list` returns. */
export interface JobFilter {
  readonly status?: JobStatus
}

// #region interface
/** Where jobs live. Async, so a durable store can implement it too. */
export interface JobStore {
  /** Stores a new `pending` job and returns it. */
  create(input: NewJob): Promise<Job>
  /** The job with this id, or undefined. */
  get(id: string): Promise<Job | undefined>
  /** Jobs in creation order, `[]` when there are none. */
  list(filter?: JobFilter): Promise<Job[]>
  /**
   * Moves job `id` from `from` to `to` if, and only if, its status is
   * `from` at that moment. Returns the changed job, or undefined when the
   * job is missing or in another status (someone else moved it first).
   */
  transition<From extends JobStatus>(
    id: string,
    from: From,
    to: NextStatus<From>,
    changes?: TransitionChanges,
  ): Promise<Job | undefined>
  /** Deletes job `id`; returns whether it was there. */
  delete(id: string): Promise<boolean>
}
// #endregion interface

// #region claim
/**
 * Claims job `id` for one worker: `pending → processing`, atomically.
 * Returns the claimed job, or undefined if it was not pending (another
 * worker claimed it, or it is gone): then the caller must skip it.
 */
export function claim(store: JobStore, id: string): Promise<Job | undefined> {
  return store.transition(id, 'pending', 'processing')
}
// #endregion claim
