import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/jobs/memory-store.ts'
import { claim } from '../../src/jobs/store.ts'

function sequentialIds() {
  let n = 0
  return () => `job-${++n}`
}

describe('MemoryStore', () => {
  it('store-list-creation-order: lists jobs in creation order, [] when empty, even after updates', async () => {
    const store = new MemoryStore({ newId: sequentialIds() })
    expect(await store.list()).toEqual([])
    for (let i = 0; i < 3; i++) await store.create({ type: 'noop' })
    await store.transition('job-1', 'pending', 'processing')
    await store.transition('job-1', 'processing', 'completed')
    expect((await store.list()).map((job) => job.id)).toEqual(['job-1', 'job-2', 'job-3'])
    expect((await store.list({ status: 'completed' })).map((job) => job.id)).toEqual(['job-1'])
  })

  it('store-compare-and-set: a transition applies only from the expected status', async () => {
    const store = new MemoryStore({ newId: sequentialIds() })
    await store.create({ type: 'noop' })
    expect(await store.transition('job-1', 'processing', 'completed')).toBeUndefined()
    expect((await store.get('job-1'))?.status).toBe('pending')
    expect((await store.transition('job-1', 'pending', 'processing'))?.status).toBe('processing')
    expect(await store.transition('missing', 'pending', 'processing')).toBeUndefined()
  })

  it('store-claim-once: of many concurrent claims on one job exactly one wins', async () => {
    const store = new MemoryStore({ newId: sequentialIds() })
    await store.create({ type: 'noop' })
    const results = await Promise.all(Array.from({ length: 50 }, () => claim(store, 'job-1')))
    expect(results.filter((job) => job !== undefined)).toHaveLength(1)
    expect((await store.get('job-1'))?.attempts).toBe(1)
  })

  it('store-jobs-immutable: a job read from the store cannot be changed by its reader', async () => {
    const store = new MemoryStore({ newId: sequentialIds() })
    const job = await store.create({ type: 'noop', payload: { a: 1 } })
    expect(() => {
      ;(job as { status: string }).status = 'completed'
    }).toThrow(TypeError)
    expect((await store.get('job-1'))?.status).toBe('pending')
  })

  it('store-retention: keeps at most JOB_RETENTION finished jobs, evicting the one finished longest ago, never a pending or running one', async () => {
    const store = new MemoryStore({ retention: 2, newId: sequentialIds() })
    for (let i = 0; i < 6; i++) await store.create({ type: 'noop' })
    // job-5 runs, job-6 waits; 1..4 finish in the order 3, 1, 4, 2.
    for (const id of ['job-1', 'job-2', 'job-3', 'job-4', 'job-5']) {
      await store.transition(id, 'pending', 'processing')
    }
    await store.transition('job-3', 'processing', 'completed')
    await store.transition('job-1', 'processing', 'failed', { last_error: 'x' })
    await store.transition('job-4', 'processing', 'completed')
    await store.transition('job-2', 'processing', 'completed')
    const ids = (await store.list()).map((job) => job.id)
    expect(ids).toEqual(['job-2', 'job-4', 'job-5', 'job-6'])
    expect(store.size).toBe(4)
  })

  it('deletes a job, finished or not', async () => {
    const store = new MemoryStore({ newId: sequentialIds() })
    await store.create({ type: 'noop' })
    expect(await store.delete('job-1')).toBe(true)
    expect(await store.delete('job-1')).toBe(false)
    expect(await store.get('job-1')).toBeUndefined()
  })

  it('refuses a retention that is not a whole number from 0', () => {
    expect(() => new MemoryStore({ retention: -1 })).toThrow(RangeError)
    expect(() => new MemoryStore({ retention: 1.5 })).toThrow(RangeError)
  })
})

describe('what breaks atomicity', () => {
  it('store-await-breaks-claim: with an await between check and set, two workers both claim one job', async () => {
    const { claimWithAwaitBetween, resetRacyJob } = await import(
      '../../src/examples/store-double-claim.ts'
    )
    resetRacyJob('job-1')
    const wins = await Promise.all([claimWithAwaitBetween('job-1'), claimWithAwaitBetween('job-1')])
    expect(wins).toEqual([true, true])
  })
})
