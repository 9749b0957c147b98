import { Channel } from '../concurrency/channel.ts'
import { runIfMain, type Out } from './run.ts'

// #region capacity
export async function main(out: Out): Promise<void> {
  const queue = new Channel<string>(2)

  // An HTTP handler must not wait: trySend, and answer 429 when full.
  for (const id of ['job-1', 'job-2', 'job-3']) {
    const accepted = queue.trySend(id)
    out(accepted ? `accepted ${id}` : `refused ${id}: queue full (429)`)
  }

  // A producer that may wait: send, and slow to the consumer's pace.
  const sending = queue.send('job-4').then(() => out('job-4 is queued'))
  out(`${queue.length} of ${queue.capacity} slots used; job-4 waits`)

  const { value } = await queue.recv()
  out(`worker took ${value}`)
  await sending
  out(`${queue.length} of ${queue.capacity} slots used`)
}
// #endregion capacity

runIfMain(import.meta.url, main)
