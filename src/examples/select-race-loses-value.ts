import { Channel } from '../concurrency/channel.ts'
import { runIfMain, type Out } from './run.ts'

// #region race
/** WRONG: races a receive against the stop signal, and loses a job. */
export async function nextJobOrStop(
  jobs: Channel<string>,
  signal: AbortSignal,
): Promise<string | undefined> {
  const stopped = new Promise<undefined>((resolve) => {
    const onAbort = () => resolve(undefined)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  // When `stopped` wins, the receive is not withdrawn: it still waits on
  // the channel, and takes the next job for nobody.
  const received = await Promise.race([jobs.recv(), stopped])
  return received?.ok ? received.value : undefined
}
// #endregion race

// #region race-main
export async function main(out: Out): Promise<void> {
  const jobs = new Channel<string>()
  const stop = new AbortController()

  const first = nextJobOrStop(jobs, stop.signal)
  stop.abort()
  out(`worker 1: ${(await first) ?? 'stopped'}`)

  await jobs.send('job-1') // resolves: somebody took it...
  out('producer: job-1 was taken')
  const next = jobs.tryRecv()
  out(`worker 2: ${next?.value ?? 'nothing, job-1 is lost'}`)
}
// #endregion race-main

runIfMain(import.meta.url, main)
