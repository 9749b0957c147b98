import { Channel } from '../concurrency/channel.ts'
import { spawn } from '../concurrency/task.ts'
import { runIfMain, type Out } from './run.ts'

// #region handoff
export async function main(out: Out): Promise<void> {
  const jobs = new Channel<string>() // unbuffered: capacity 0

  const producer = spawn('producer', async () => {
    for (const id of ['job-1', 'job-2']) {
      out(`producer: sending ${id}`)
      await jobs.send(id) // resolves once a receiver has taken it
      out(`producer: ${id} was taken`)
    }
    jobs.close() // the sender closes, once, after its last send
  })

  for await (const id of jobs) out(`worker: received ${id}`)
  out('worker: the channel is closed and drained')
  await producer
}
// #endregion handoff

runIfMain(import.meta.url, main)
