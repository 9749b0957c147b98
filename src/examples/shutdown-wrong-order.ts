/**
 * The original's shutdown order, "close the queue, then stop the rest",
 * next to the right one, each run against the same producer: a task
 * that is waiting to put a job id on a full queue when the stop begins.
 */
import { setImmediate } from 'node:timers/promises'
import { Channel } from '../concurrency/channel.ts'
import { spawn, type Task } from '../concurrency/task.ts'
import { runIfMain, type Out } from './run.ts'

// #region producer
/**
 * A producer like the recovery feeder: it sends `ids` one by one, waiting
 * for room, until its signal aborts.
 */
export function startProducer(
  queue: Channel<string>,
  ids: readonly string[],
): Task<void> {
  return spawn('producer', async (signal) => {
    for (const id of ids) {
      await queue.send(id, { signal }).catch((error: unknown) => {
        if (error !== signal.reason) throw error // a real failure
      })
      if (signal.aborted) return
    }
  })
}
// #endregion producer

// #region wrong-order
/** The wrong order: the queue is closed while a producer can still send. */
export async function closeQueueFirst(
  queue: Channel<string>,
  producer: Task<void>,
): Promise<void> {
  queue.close()
  producer.abort()
  await producer // rejects: the producer's send met the closed queue
}
// #endregion wrong-order

// #region right-order
/** The right order: stop the producer and wait for it, then close. */
export async function stopProducerFirst(
  queue: Channel<string>,
  producer: Task<void>,
): Promise<void> {
  producer.abort()
  await producer
  queue.close() // no one can send any more
}
// #endregion right-order

/** Runs one stop against a producer stuck on a full queue of one. */
async function tryStop(
  stop: (queue: Channel<string>, producer: Task<void>) => Promise<void>,
): Promise<string> {
  const queue = new Channel<string>(1)
  const producer = startProducer(queue, ['job-1', 'job-2', 'job-3'])
  await setImmediate() // let it run: job-1 is queued, job-2 waits for room
  try {
    await stop(queue, producer)
    return `stopped cleanly; queued: ${queue.length}`
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`
  }
}

export async function main(out: Out): Promise<void> {
  out(`close the queue first: ${await tryStop(closeQueueFirst)}`)
  out(`stop producers first: ${await tryStop(stopProducerFirst)}`)
}

runIfMain(import.meta.url, main)
