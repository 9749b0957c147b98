/**
 * The original's recovery order, "recovery finishes before the workers
 * start", run on more jobs than the queue holds, both ways it can go:
 * waiting for room that no one will ever make, or dropping what does not
 * fit.
 */
import { setImmediate } from 'node:timers/promises'
import { createJobQueue, type JobQueue } from '../jobs/queue.ts'
import { recoverJobs } from '../jobs/recovery.ts'
import type { JobStore } from '../jobs/store.ts'
import { census, storeLeftByACrash } from './recovery-feeder.ts'
import { runIfMain, type Out } from './run.ts'

// #region wait-before-workers
/**
 * WRONG: enqueues every recovered job, waiting for room, and only then
 * returns, so that the workers can start. Past the queue's capacity it
 * waits for room that only the workers could make: it never returns.
 */
export async function recoverThenStartWorkers(
  store: JobStore,
  queue: JobQueue,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const { ids } = await recoverJobs(store)
  for (const id of ids) await queue.send(id, options)
}
// #endregion wait-before-workers

// #region drop-overflow
/**
 * WRONG: enqueues what fits and moves on. The rest stay `pending` with
 * nothing to put them on the queue: stranded until the next restart.
 */
export async function recoverWhatFits(
  store: JobStore,
  queue: JobQueue,
): Promise<{ sent: number; dropped: number }> {
  const { ids } = await recoverJobs(store)
  let sent = 0
  for (const id of ids) if (queue.trySend(id)) sent += 1
  return { sent, dropped: ids.length - sent }
}
// #endregion drop-overflow

const CRASH = { pending: 6, processing: 2, completed: 2, failed: 2 }

export async function main(out: Out): Promise<void> {
  out(`store at start: ${await census(await storeLeftByACrash(CRASH))}`)

  const store = await storeLeftByACrash(CRASH)
  const queue = createJobQueue(4)
  const stop = new AbortController()
  let returned = false
  const recovery = recoverThenStartWorkers(store, queue, {
    signal: stop.signal,
  }).then(
    () => (returned = true),
    () => {}, // the abort below
  )
  await setImmediate() // everything that can run has run
  out(
    `wait, then start workers: ${queue.length} of ${queue.capacity} ` +
      `queued, recovery returned: ${returned}`,
  )
  stop.abort() // no worker will ever start: give up
  await recovery

  const other = createJobQueue(4)
  const { sent, dropped } = await recoverWhatFits(
    await storeLeftByACrash(CRASH),
    other,
  )
  out(`enqueue what fits: ${sent} queued, ${dropped} left pending, unqueued`)
}

runIfMain(import.meta.url, main)
