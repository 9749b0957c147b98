/**
 * Startup recovery the right way, on a store that stands in for one that
 * outlived its process: more jobs to recover than the queue holds, the
 * workers started before the feeder has sent them all.
 */
import { HandlerRegistry } from '../jobs/handlers.ts'
import type { JobStatus } from '../jobs/job.ts'
import { MemoryStore } from '../jobs/memory-store.ts'
import { WorkerPool } from '../jobs/pool.ts'
import { createJobQueue } from '../jobs/queue.ts'
import { feedQueue, recoverJobs } from '../jobs/recovery.ts'
import { claim, type JobStore } from '../jobs/store.ts'
import { runIfMain, type Out } from './run.ts'

/**
 * A store as a crashed process left it: `pending` jobs it had accepted,
 * `processing` ones it was running, and finished ones.
 */
export async function storeLeftByACrash(counts: {
  pending: number
  processing: number
  completed: number
  failed: number
}): Promise<MemoryStore> {
  const store = new MemoryStore()
  const make = async () => (await store.create({ type: 'work' })).id
  for (let i = 0; i < counts.pending; i++) await make()
  for (let i = 0; i < counts.processing; i++) await claim(store, await make())
  for (let i = 0; i < counts.completed; i++) {
    const id = await make()
    await claim(store, id)
    await store.transition(id, 'processing', 'completed')
  }
  for (let i = 0; i < counts.failed; i++) {
    const id = await make()
    await claim(store, id)
    await store.transition(id, 'processing', 'failed', { last_error: 'boom' })
  }
  return store
}

/** How many jobs are in each status, as `status: n`, in table order. */
export async function census(store: JobStore): Promise<string> {
  const counts = new Map<JobStatus, number>()
  for (const job of await store.list()) {
    counts.set(job.status, (counts.get(job.status) ?? 0) + 1)
  }
  return [...counts].map(([status, n]) => `${n} ${status}`).join(', ')
}

export async function main(out: Out): Promise<void> {
  const store = await storeLeftByACrash({
    pending: 6,
    processing: 2,
    completed: 2,
    failed: 2,
  })
  const finishedBefore = (await store.list()).filter(
    (job) => job.status === 'completed' || job.status === 'failed',
  )
  out(`store at start: ${await census(store)}`)
  const runs = new Map<string, number>()
  const handlers = new HandlerRegistry().register('work', {
    async run(job) {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1)
    },
  })
  const queue = createJobQueue(3)

  // #region start-order
  // 1. The store is there. 2. Recovery, before any worker runs:
  const recovered = await recoverJobs(store)
  // 3. The queue (made above), 4. the workers,
  const pool = new WorkerPool({ size: 2, store, queue, handlers })
  // ...and the feeder, a producer task that waits for room as workers
  // free it. 5. HTTP would start here, while the feeder works.
  const feeder = feedQueue(queue, recovered.ids)
  // #endregion start-order

  out(
    `recovered: ${recovered.requeued.length} processing → pending, ` +
      `${recovered.ids.length} ids to feed into a queue of ${queue.capacity}`,
  )
  const fed = await feeder
  out(`feeder: sent ${fed.sent}, unsent ${fed.unsent}`)
  queue.close() // the only producer has stopped
  await pool.wait()

  const once = [...runs.values()].every((n) => n === 1)
  out(`jobs run: ${runs.size}, each exactly once: ${once}`)
  const untouched = await Promise.all(
    finishedBefore.map(async (job) => (await store.get(job.id)) === job),
  )
  out(`finished jobs untouched: ${untouched.every(Boolean)}`)
  out(`store at the end: ${await census(store)}`)
}

runIfMain(import.meta.url, main)
