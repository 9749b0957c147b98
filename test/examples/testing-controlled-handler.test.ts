import { expect, it } from 'vitest'
import {
  controlledHandlers,
  deferred,
  settledYet,
} from '../../src/examples/testing-controlled-handler.ts'
import { MemoryStore } from '../../src/jobs/memory-store.ts'
import { WorkerPool } from '../../src/jobs/pool.ts'
import { createJobQueue } from '../../src/jobs/queue.ts'

it('testing-settled-yet: settledYet says false for a promise nobody has settled and true once it is, with no clock', async () => {
  const gate = deferred()
  expect(await settledYet(gate.promise)).toBe(false)
  gate.resolve()
  expect(await settledYet(gate.promise)).toBe(true)
  const failed = Promise.reject(new Error('no'))
  expect(await settledYet(failed)).toBe(true)
  await expect(failed).rejects.toThrow('no')
})

it('testing-controlled-handler: a held job stays processing, and the workers do not end, until the test releases it', async () => {
  const { handlers, started, release } = controlledHandlers()
  const store = new MemoryStore()
  const queue = createJobQueue(1)
  const pool = new WorkerPool({ size: 1, store, queue, handlers })
  const job = await store.create({ type: 'held' })
  queue.trySend(job.id)

  expect(await started).toBe(job.id)
  pool.stopTaking()
  const ended = pool.wait()
  expect(await settledYet(ended)).toBe(false)
  expect((await store.get(job.id))?.status).toBe('processing')

  release(job.id)
  await ended
  expect((await store.get(job.id))?.status).toBe('completed')
  queue.close()
})

it('testing-controlled-handler: a held job stops when its signal aborts', async () => {
  const { handlers, started } = controlledHandlers()
  const store = new MemoryStore()
  const queue = createJobQueue(1)
  const pool = new WorkerPool({ size: 1, store, queue, handlers })
  const job = await store.create({ type: 'held', max_retries: 0 })
  queue.trySend(job.id)
  await started
  pool.stopTaking()
  pool.abortJobs(new Error('stop now'))
  await pool.wait()
  expect((await store.get(job.id))?.status).not.toBe('processing')
  queue.close()
})
