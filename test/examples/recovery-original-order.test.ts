import { expect, it } from 'vitest'
import { Channel } from '../../src/concurrency/channel.ts'
import {
  LEFT,
  recoverThenStartWorkers,
  recoverWhatFits,
} from '../../src/examples/recovery-original-order.ts'
import { settledYet } from '../../src/examples/testing-controlled-handler.ts'

it('recovery-original-order-deadlocks: recovering before the workers start, with more jobs than the queue holds, fills the queue and never returns', async () => {
  const queue = new Channel<string>(4)
  const stop = new AbortController()
  const recovery = recoverThenStartWorkers(LEFT, queue, { signal: stop.signal })

  expect(await settledYet(recovery)).toBe(false)
  expect(queue.length).toBe(queue.capacity) // full: only a worker makes room
  expect(await settledYet(recovery)).toBe(false) // and nothing changed

  stop.abort(new Error('gave up'))
  await expect(recovery).rejects.toThrow('gave up')
  expect(queue.length).toBe(4)
})

it('recovery-original-order-deadlocks: with no more jobs than the queue holds, the same order returns, which is why a small test misses it', async () => {
  const queue = new Channel<string>(4)
  await recoverThenStartWorkers(LEFT.slice(0, 4), queue)
  expect(queue.length).toBe(4)
})

it('recovery-dropping-strands-jobs: sending only what fits leaves the rest on no queue', () => {
  const queue = new Channel<string>(4)
  const { sent, stranded } = recoverWhatFits(LEFT, queue)
  expect({ sent, stranded }).toEqual({ sent: 4, stranded: LEFT.slice(4) })
  const queued: string[] = []
  for (let r = queue.tryRecv(); r?.ok; r = queue.tryRecv()) queued.push(r.value)
  expect(queued).toEqual(LEFT.slice(0, 4))
})
