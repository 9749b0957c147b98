import { Channel } from '../concurrency/channel.ts'
import { recv, select } from '../concurrency/select.ts'
import { runIfMain, type Out } from './run.ts'

// #region select-stop
/** Waits for the next job or the stop signal; a stop takes nothing. */
export async function nextJobOrStop(
  jobs: Channel<string>,
  signal: AbortSignal,
): Promise<string | undefined> {
  try {
    const received = await select([recv(jobs)], { signal })
    return received.ok ? received.value : undefined
  } catch (error) {
    if (signal.aborted) return undefined // stopped: the receive withdrawn
    throw error
  }
}
// #endregion select-stop

export async function main(out: Out): Promise<void> {
  const jobs = new Channel<string>()
  const stop = new AbortController()

  const first = nextJobOrStop(jobs, stop.signal)
  stop.abort()
  out(`worker 1: ${(await first) ?? 'stopped'}`)

  const sending = jobs.send('job-1') // waits: nobody is receiving
  const next = await jobs.recv()
  out(`worker 2: ${next.value ?? 'nothing'}`)
  await sending
  out('producer: job-1 was taken by worker 2')
}

runIfMain(import.meta.url, main)
