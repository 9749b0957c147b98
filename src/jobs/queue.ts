/**
 * The job queue: a bounded `Channel` of job ids. It carries ids, never job
 * objects, so no one works from a stale copy: a worker reads the job from
 * the store after claiming it.
 */
import { Channel } from '../concurrency/channel.ts'

/** The queue between the producers (HTTP) and the workers. */
export type JobQueue = Channel<string>

/** A queue that holds at most `capacity` job ids (`JOB_QUEUE_CAPACITY`). */
export function createJobQueue(capacity: number): JobQueue {
  return new Channel<string>(capacity)
}
