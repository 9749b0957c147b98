import { Channel, type Received } from '../concurrency/channel.ts'
import { spawn } from '../concurrency/task.ts'
import { runIfMain, type Out } from './run.ts'

/** Does one job; it should stop early when `signal` aborts. */
export type Handler = (id: string, signal: AbortSignal) => Promise<void>

// #region worker-loop
/**
 * Handles jobs one at a time until the channel is closed and drained, or
 * `signal` aborts, and says which. Go's `for { select { case <-ctx.Done():
 * ... case id, ok := <-jobs: ... } }`.
 */
export async function work(
  jobs: Channel<string>,
  signal: AbortSignal,
  handle: Handler,
): Promise<'closed' | 'aborted'> {
  for (;;) {
    let received: Received<string>
    try {
      received = await jobs.recv({ signal }) // the job, or the stop
    } catch (error) {
      if (signal.aborted) return 'aborted' // nothing was taken
      throw error
    }
    if (!received.ok) return 'closed'
    await handle(received.value, signal)
  }
}
// #endregion worker-loop

// #region worker-main
export async function main(out: Out): Promise<void> {
  const handle: Handler = async (id) => out(`handled ${id}`)

  const jobs = new Channel<string>(3)
  for (const id of ['job-1', 'job-2', 'job-3']) await jobs.send(id)
  jobs.close()
  const { signal } = new AbortController() // never aborted
  out(`worker stopped: ${await work(jobs, signal, handle)}`)

  const idle = new Channel<string>() // nothing will ever come
  const worker = spawn('worker', (signal) => work(idle, signal, handle))
  worker.abort() // the owner stops it
  out(`worker stopped: ${await worker}`)
}
// #endregion worker-main

runIfMain(import.meta.url, main)
