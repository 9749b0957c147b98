import { Channel, type Received } from '../concurrency/channel.ts'
import { runIfMain, type Out } from './run.ts'

const show = ({ ok, value }: Received<string>) => `ok=${ok} value=${value}`

// #region closed
export async function main(out: Out): Promise<void> {
  const jobs = new Channel<string>(2)
  await jobs.send('job-1')
  jobs.close()

  out(show(await jobs.recv())) // what was buffered still comes out
  out(show(await jobs.recv())) // then ok: false, at once
  out(show(await jobs.recv())) // and again, forever

  try {
    await jobs.send('job-2') // Go panics: "send on closed channel"
  } catch (error) {
    out(String(error))
  }
}
// #endregion closed

runIfMain(import.meta.url, main)
