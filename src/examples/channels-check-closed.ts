import { Channel } from '../concurrency/channel.ts'
import { runIfMain, type Out } from './run.ts'

// #region check-closed
/** WRONG: treats "closed" as "empty", and stops with jobs still queued. */
export async function drainCheckingClosed(
  jobs: Channel<string>,
  handle: (id: string) => void,
): Promise<void> {
  while (!jobs.closed) {
    const { ok, value } = await jobs.recv()
    if (ok) handle(value)
  }
}
// #endregion check-closed

// #region until-ok-false
/** Receives until the channel is closed *and* drained. */
export async function drain(
  jobs: Channel<string>,
  handle: (id: string) => void,
): Promise<void> {
  for await (const id of jobs) handle(id)
}
// #endregion until-ok-false

/** A queue the producer has filled with `count` jobs and closed. */
export function filledAndClosed(count: number): Channel<string> {
  const jobs = new Channel<string>(count)
  for (let i = 1; i <= count; i++) jobs.trySend(`job-${i}`)
  jobs.close() // the producer is done: closing is how it says so
  return jobs
}

export async function main(out: Out): Promise<void> {
  for (const [name, consume] of [
    ['checking closed first', drainCheckingClosed],
    ['receiving until ok is false', drain],
  ] as const) {
    const handled: string[] = []
    await consume(filledAndClosed(3), (id) => handled.push(id))
    out(`${name}: handled ${handled.length} of 3 jobs`)
  }
}

runIfMain(import.meta.url, main)
