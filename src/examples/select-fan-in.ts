import { Channel } from '../concurrency/channel.ts'
import { recv, select } from '../concurrency/select.ts'
import { spawn } from '../concurrency/task.ts'
import { runIfMain, type Out } from './run.ts'

// #region fan-in
/** Passes on every value of every channel, until all are closed. */
export async function merge<T>(
  channels: Channel<T>[],
  handle: (value: T) => void,
): Promise<void> {
  let open = channels
  while (open.length > 0) {
    const { index, ok, value } = await select(open.map((ch) => recv(ch)))
    if (ok) handle(value)
    else open = open.filter((_, i) => i !== index) // Go: set it to nil
  }
}
// #endregion fan-in

export async function main(out: Out): Promise<void> {
  const emails = new Channel<string>()
  const reports = new Channel<string>()
  const produce = (ch: Channel<string>, items: string[]) =>
    spawn('producer', async () => {
      for (const item of items) await ch.send(item)
      ch.close()
    })
  const producers = [
    produce(emails, ['email-1', 'email-2']),
    produce(reports, ['report-1', 'report-2']),
  ]
  await merge([emails, reports], (item) => out(`merged ${item}`))
  await Promise.all(producers)
  out('both channels closed')
}

runIfMain(import.meta.url, main)
