// The wrong way to wait for tasks that fail together: Promise.all gives up
// at the first failure, and the owner returns while the others still run.
import { sleep } from '../concurrency/abort.ts'
import { spawn, type Task } from '../concurrency/task.ts'
import { runIfMain, type Out } from './run.ts'

// #region promise-all-bad
export async function saveAllBad(out: Out): Promise<Task<void>[]> {
  const tasks = [
    spawn('fails', async () => {
      await sleep(10)
      throw new Error('disk full')
    }),
    spawn('slow', async () => {
      await sleep(50)
      out('slow: wrote its file') // after its owner has returned
    }),
  ]
  try {
    await Promise.all(tasks)
  } catch (error) {
    out(`Promise.all rejected: ${(error as Error).message}`)
  }
  out('owner returned')
  return tasks // only so that this demo can wait for what is left
}
// #endregion promise-all-bad

export async function main(out: Out): Promise<void> {
  const left = await saveAllBad(out)
  await Promise.allSettled(left)
}

runIfMain(import.meta.url, main)
