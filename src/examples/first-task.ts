import { sleep } from '../concurrency/abort.ts'
import { spawn } from '../concurrency/task.ts'
import { runIfMain, type Out } from './run.ts'

// #region first-task
export async function main(out: Out): Promise<void> {
  out('Start')
  const task = spawn('background', async (signal) => {
    await sleep(50, { signal }) // stands for slow work
    out('Task finished')
  })
  out('End')
  await task // the owner waits for its task: no guessing
}
// #endregion first-task

runIfMain(import.meta.url, main)
