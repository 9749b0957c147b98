import { expect, it } from 'vitest'
import {
  deferred,
  oneHeldJob,
  settledYet,
} from '../../src/examples/testing-controlled-handler.ts'

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
  const { store, queue, pool, started, release } = await oneHeldJob()
  const id = await started
  pool.stopTaking()
  const ended = pool.wait()
  expect(await settledYet(ended)).toBe(false)
  expect((await store.get(id))?.status).toBe('processing')

  release(id)
  await ended
  expect((await store.get(id))?.status).toBe('completed')
  queue.close()
})

it('testing-controlled-handler: a held job stops when its signal aborts', async () => {
  const { store, queue, pool, started } = await oneHeldJob(0)
  const id = await started
  pool.stopTaking()
  pool.abortJobs(new Error('stop now'))
  await pool.wait()
  expect(await store.get(id)).toMatchObject({ status: 'failed', last_error: 'stop now' })
  queue.close()
})
