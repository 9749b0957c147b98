import { Channel } from '../concurrency/channel.ts'
import { sleep } from '../concurrency/abort.ts'
import { recv, send, select, trySelect } from '../concurrency/select.ts'
import { spawn } from '../concurrency/task.ts'
import { runIfMain, type Out } from './run.ts'

// #region default
export function offer(queue: Channel<string>, id: string): string {
  // Go: select { case queue <- id: ... default: ... }
  const selected = trySelect([send(queue, id)])
  return selected ? `queued ${id}` : `queue full, ${id} refused`
}
// #endregion default

// #region timeout
export async function firstResult(
  primary: Channel<string>,
  replica: Channel<string>,
  ms: number,
): Promise<string> {
  try {
    const { value } = await select([recv(primary), recv(replica)], {
      signal: AbortSignal.timeout(ms), // Go: case <-time.After(ms)
    })
    return value ?? 'closed'
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') {
      return `no result within ${ms} ms`
    }
    throw error
  }
}
// #endregion timeout

// #region timeout-main
export async function main(out: Out): Promise<void> {
  const queue = new Channel<string>(1)
  out(offer(queue, 'job-1'))
  out(offer(queue, 'job-2'))

  const primary = new Channel<string>() // never answers
  const replica = new Channel<string>(1)
  const slowReplica = spawn('replica', async () => {
    await sleep(50)
    replica.trySend('answer from the replica')
  })
  out(await firstResult(primary, replica, 20))
  out(await firstResult(primary, replica, 1_000))
  await slowReplica
}
// #endregion timeout-main

runIfMain(import.meta.url, main)
