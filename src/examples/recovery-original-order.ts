/**
 * The Go original's recovery, "put every recovered job on the queue, then
 * start the workers", run on more jobs than its queue holds, both ways it
 * can go: waiting for room that no one will ever make, or dropping what
 * does not fit. Its queue was a bounded channel of job ids; so is this.
 */
import { setImmediate } from 'node:timers/promises'
import { Channel } from '../concurrency/channel.ts'
import { runIfMain, type Out } from './run.ts'

// #region wait-before-workers
/**
 * WRONG: sends every recovered id, waiting for room, and only then
 * returns, so that the workers can start. Past the queue's capacity it
 * waits for room that only the workers could make: it never returns.
 */
export async function recoverThenStartWorkers(
  ids: readonly string[],
  queue: Channel<string>,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  for (const id of ids) await queue.send(id, options)
}
// #endregion wait-before-workers

// #region drop-overflow
/**
 * WRONG: sends what fits and moves on. The rest are still `pending` in
 * the store, with nothing to put them on the queue: stranded.
 */
export function recoverWhatFits(
  ids: readonly string[],
  queue: Channel<string>,
): { sent: number; stranded: string[] } {
  const stranded = ids.filter((id) => !queue.trySend(id))
  return { sent: ids.length - stranded.length, stranded }
}
// #endregion drop-overflow

/** The ids a crashed process left `pending` or `processing`. */
export const LEFT = Array.from({ length: 8 }, (_, i) => `job-${i + 1}`)

export async function main(out: Out): Promise<void> {
  out(`${LEFT.length} jobs to recover, a queue of 4, no worker started yet`)
  const queue = new Channel<string>(4)
  const stop = new AbortController()
  let returned = false
  const recovery = recoverThenStartWorkers(LEFT, queue, {
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

  const { sent, stranded } = recoverWhatFits(LEFT, new Channel<string>(4))
  out(`send what fits: ${sent} queued, ${stranded.length} on no queue`)
}

runIfMain(import.meta.url, main)
