/**
 * A full queue, met by a request handler two ways: refusing at once with
 * 429 (the service's way), or waiting for room (the wrong way).
 */
import { setImmediate } from 'node:timers/promises'
import { createApp } from '../http/app.ts'
import { defaultHandlers } from '../jobs/handlers.ts'
import type { Job, NewJob } from '../jobs/job.ts'
import { MemoryStore } from '../jobs/memory-store.ts'
import { createJobQueue, type JobQueue } from '../jobs/queue.ts'
import type { JobStore } from '../jobs/store.ts'
import { runIfMain, type Out } from './run.ts'

// #region waiting-submit
/**
 * WRONG: stores the job, then waits for room in the queue. The request
 * that called it hangs for as long as the queue stays full, and if the
 * client gives up, the job stays in the store, `pending`, on no queue.
 */
export async function submitWaitingForRoom(
  deps: { store: JobStore; queue: JobQueue },
  input: NewJob,
  options: { signal?: AbortSignal } = {},
): Promise<Job> {
  const job = await deps.store.create(input)
  await deps.queue.send(job.id, options)
  return job
}
// #endregion waiting-submit

const sleepJob = JSON.stringify({ type: 'sleep', payload: { ms: 10 } })

export async function main(out: Out): Promise<void> {
  // No workers: nothing makes room, as when every worker is busy.
  const store = new MemoryStore()
  const queue = createJobQueue(2)
  const app = createApp({ store, queue, handlers: defaultHandlers() })
  for (let i = 1; i <= 3; i++) {
    const res = await app.request('/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: sleepJob,
    })
    const retry = res.headers.get('Retry-After')
    out(`POST /jobs → ${res.status}${retry ? ` Retry-After: ${retry}` : ''}`)
  }
  out(`queue: ${queue.length} of ${queue.capacity}; jobs: ${store.size}`)

  const client = new AbortController() // the client's patience
  let answered = false
  const waiting = submitWaitingForRoom(
    { store, queue },
    { type: 'sleep', payload: { ms: 10 } },
    { signal: client.signal },
  ).then(
    () => (answered = true),
    () => {}, // the client gave up
  )
  await setImmediate() // everything that can run has run
  out(`waiting handler answered: ${answered}`)
  client.abort()
  await waiting
  const stranded = store.size - queue.length
  out(`after the client gave up: ${stranded} job in the store on no queue`)
}

runIfMain(import.meta.url, main)
