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

  it('store-memory-budget: a job that fills the budget exactly fits, and nothing finished is dropped for it', async () => {
    // "xxxx" is six bytes of JSON: two fill a budget of twelve.
    const store = new MemoryStore({ budgetBytes: 12, now: tickingClock() })
    const first = await store.create({ type: 'noop', payload: 'xxxx' })
    await store.finish((await store.claim('a', 1, 60_000))[0]!.lease, { kind: 'completed' })
    await store.create({ type: 'noop', payload: 'xxxx' })
    expect(store.bytes).toBe(12)
    expect(await store.get(first.job.id)).toMatchObject({ status: 'completed' })
    // The next drops the finished one, and the one after finds nothing to drop.
    await store.create({ type: 'noop', payload: 'xxxx' })
    expect(await store.get(first.job.id)).toBeUndefined()
    await expect(store.create({ type: 'noop', payload: 'xxxx' })).rejects.toThrow(StoreFullError)
    expect(store.bytes).toBe(12)
  })

  it('refuses a budget that is not a whole number of bytes from 0 up', () => {
    for (const budgetBytes of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new MemoryStore({ budgetBytes })).toThrow(
        new RangeError(
          `Expected \`budgetBytes\` to be an integer from 0 and up, got \`${budgetBytes}\``,
        ),
      )
    }
    expect(new MemoryStore({ budgetBytes: 0 }).budgetBytes).toBe(0)
  })

  it('stamps jobs with the time of day unless given a clock', async () => {
    const before = Date.now()
    const { job } = await new MemoryStore().create({ type: 'noop' })
    const created = Date.parse(job.created_at)
    expect(created).toBeGreaterThanOrEqual(before)
    expect(created).toBeLessThanOrEqual(Date.now())
  })

  it('draws its lease and age bounds as the SQL does: due at run_at, expired after it, pruned when older', async () => {
    // A clock that stands still unless moved: each bound met to the millisecond.
    let now = Date.parse('2026-01-01T00:00:00Z')
    const store = new MemoryStore({ now: () => new Date(now), random: () => 0 })
    await store.create({ type: 'noop' })
    const first = (await store.claim('a', 1, 0))[0]!
    // A lease of 0 ms ends now: not expired until a millisecond later.
    expect(await store.rescue({ baseMs: 0, maxMs: 0 })).toEqual([])
    now += 1
    expect(await store.rescue({ baseMs: 0, maxMs: 0 })).toHaveLength(1)
    // A retry of 0 ms (the backoff drew 0) is due at once.
    const again = (await store.claim('a', 1, 60_000))[0]!
    expect(again.job.id).toBe(first.job.id)
    await store.finish(again.lease, { kind: 'completed' })
    // Finished this millisecond is not older than 0 ms.
    expect(await store.prune({ olderThanMs: 0, keep: 10 })).toBe(0)
    now += 1
    expect(await store.prune({ olderThanMs: 0, keep: 10 })).toBe(1)
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
