import { expect, it } from 'vitest'
import { storeLeftByACrash } from '../../src/examples/recovery-feeder.ts'
import {
  recoverThenStartWorkers,
  recoverWhatFits,
} from '../../src/examples/recovery-original-order.ts'
import { settledYet } from '../../src/examples/testing-controlled-handler.ts'
import { createJobQueue } from '../../src/jobs/queue.ts'

const CRASH = { pending: 6, processing: 2, completed: 2, failed: 2 }

it('recovery-original-order-deadlocks: recovering before the workers start, with more jobs than the queue holds, fills the queue and never returns', async () => {
  const store = await storeLeftByACrash(CRASH)
  const queue = createJobQueue(4)
  const stop = new AbortController()
  const recovery = recoverThenStartWorkers(store, queue, { signal: stop.signal })

  expect(await settledYet(recovery)).toBe(false)
  expect(queue.length).toBe(queue.capacity) // full: only a worker makes room
  expect(await settledYet(recovery)).toBe(false) // and nothing changed

  stop.abort(new Error('gave up'))
  await expect(recovery).rejects.toThrow('gave up')
  expect(queue.length).toBe(4)
})

it('recovery-original-order-deadlocks: with no more jobs than the queue holds, the same order returns, which is why a small test misses it', async () => {
  const store = await storeLeftByACrash({ ...CRASH, pending: 2 })
  const queue = createJobQueue(4)
  await recoverThenStartWorkers(store, queue)
  expect(queue.length).toBe(4)
})

it('recovery-dropping-strands-jobs: enqueueing only what fits leaves the rest pending on no queue', async () => {
  const store = await storeLeftByACrash(CRASH)
  const queue = createJobQueue(4)
  const { sent, dropped } = await recoverWhatFits(store, queue)
  expect({ sent, dropped }).toEqual({ sent: 4, dropped: 4 })
  const queued = new Set<string>()
  for (let r = queue.tryRecv(); r?.ok; r = queue.tryRecv()) queued.add(r.value)
  const stranded = (await store.list({ status: 'pending' })).filter(
    (job) => !queued.has(job.id),
  )
  expect(stranded).toHaveLength(4)
})
