// Three ways to wait for tasks, and what a TaskGroup does when one fails.
import { sleep } from '../concurrency/abort.ts'
import { spawn, TaskGroup } from '../concurrency/task.ts'
import { WaitGroup } from '../concurrency/wait-group.ts'
import { runIfMain, type Out } from './run.ts'

// #region wait-group
export async function withWaitGroup(out: Out): Promise<void> {
  const wg = new WaitGroup()
  for (const id of [1, 2, 3]) {
    wg.go(async () => {
      await sleep(10 * id)
      out(`worker ${id} done`)
    })
  }
  await wg.wait()
  out('all workers done')
}
// #endregion wait-group

// #region hold-the-promise
export async function holdingPromises(out: Out): Promise<void> {
  const tasks = [1, 2, 3].map((id) =>
    spawn(`worker-${id}`, async () => {
      await sleep(10 * id)
      return id * id
    }),
  )
  out(`results: ${(await Promise.all(tasks)).join(', ')}`)
}
// #endregion hold-the-promise

// #region task-group
export async function groupFailsFast(out: Out): Promise<void> {
  const group = new TaskGroup()
  group.spawn('fails', async () => {
    await sleep(10)
    throw new Error('disk full')
  })
  group.spawn('slow', async (signal) => {
    try {
      await sleep(10_000, { signal })
    } finally {
      out(`slow stopped: ${signal.aborted ? 'aborted' : 'finished'}`)
    }
  })
  await group.wait().catch((error: Error) => {
    out(`wait() rejected: ${error.message}`)
  })
}
// #endregion task-group

export async function main(out: Out): Promise<void> {
  await withWaitGroup(out)
  await holdingPromises(out)
  await groupFailsFast(out)
}

runIfMain(import.meta.url, main)
