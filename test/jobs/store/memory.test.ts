import { describe, expect, it } from 'vitest'
import { StoreFullError } from '../../../src/jobs/errors.ts'
import { MemoryStore } from '../../../src/jobs/store/memory.ts'
import { describeStoreContract } from './conformance.ts'

/** A clock that moves on a millisecond at every read. */
function tickingClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start
  return () => new Date(now++)
}

describeStoreContract('MemoryStore', {
  async reset() {
    const store = new MemoryStore({ now: tickingClock() })
    return { store, connect: async () => store }
  },
})

describe('MemoryStore', () => {
  it('store-memory-budget: refuses a job past its byte budget, after dropping finished jobs first', async () => {
    const kib = 'x'.repeat(1024)
    const store = new MemoryStore({ budgetBytes: 3 * 1030, now: tickingClock() })
    const first = await store.create({ type: 'noop', payload: kib })
    await store.create({ type: 'noop', payload: kib })
    await store.create({ type: 'noop', payload: kib })
    await expect(store.create({ type: 'noop', payload: kib })).rejects.toThrow(StoreFullError)
    expect(store.size).toBe(3)
    // A finished job makes room: the oldest finished is dropped.
    const [claimed] = await store.claim('a', 1, 60_000)
    expect(claimed?.job.id).toBe(first.job.id)
    await store.finish(claimed!.lease, { kind: 'completed' })
    await store.create({ type: 'noop', payload: kib })
    expect(await store.get(first.job.id)).toBeUndefined()
    expect(store.bytes).toBeLessThanOrEqual(store.budgetBytes)
  })

  it('store-memory-unfinished: counts the jobs a stop would lose', async () => {
    const store = new MemoryStore({ now: tickingClock() })
    await store.create({ type: 'noop' })
    await store.create({ type: 'noop' })
    const [claimed] = await store.claim('a', 1, 60_000)
    await store.finish(claimed!.lease, { kind: 'completed' })
    expect(store.unfinished).toBe(1)
    expect(store.durable).toBe(false)
  })
})
