import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { spawn } from '../../src/concurrency/task.ts'
import { JobEvents, type JobEvent } from '../../src/jobs/events.ts'
import { recoverAtStart } from '../../src/jobs/recovery.ts'
import { rescueOnce, runRescuer } from '../../src/jobs/rescuer.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'

describe('the rescuer', () => {
  it('rescuer-events: each rescued job is reported with the owner that lost it', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z')
    const store = new MemoryStore({ now: () => new Date(now) })
    await store.create({ type: 'noop' })
    await store.claim('crashed-instance', 1, 1_000)
    const events: JobEvent[] = []
    const bus = new JobEvents()
    bus.subscribe((event) => events.push(event))
    const options = { store, policy: { baseMs: 1_000, maxMs: 60_000 }, events: bus }
    expect(await rescueOnce(options)).toEqual({ rescued: 0, pruned: 0 })
    now += 1_001
    expect(await rescueOnce(options)).toEqual({ rescued: 1, pruned: 0 })
    expect(events).toMatchObject([
      { event: 'job_rescued', owner: 'crashed-instance', attempt: 1, status: 'retrying' },
    ])
  })

  it('recovery-at-start: with a database it owns alone, the start gives back every running job at once', async () => {
    const store = new MemoryStore()
    for (let i = 0; i < 2; i++) await store.create({ type: 'noop' })
    await store.claim('dead-process', 2, 60_000) // leases far from expired
    const policy = { baseMs: 0, maxMs: 0 }
    expect(await recoverAtStart({ store, exclusive: false, policy })).toBe(0)
    expect(await recoverAtStart({ store, exclusive: true, policy })).toBe(2)
    expect(await store.countByStatus()).toMatchObject({ retrying: 2, processing: 0 })
  })

  describe('on a timer', () => {
    beforeEach(() => {
      vi.useFakeTimers()
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    it('rescuer-interval: passes once per interval, prunes, and a failed pass is reported, not fatal', async () => {
      const store = new MemoryStore()
      let passes = 0
      const rescue = store.rescue.bind(store)
      store.rescue = (policy) => (++passes === 1 ? Promise.reject(new Error('db down')) : rescue(policy))
      const errors: unknown[] = []
      const rescuer = spawn('rescuer', (signal) =>
        runRescuer({
          store,
          policy: { baseMs: 0, maxMs: 0 },
          prune: { olderThanMs: 0, keep: 0 },
          intervalMs: 5_000,
          signal,
          onError: (error) => errors.push(error),
        }),
      )
      await vi.advanceTimersByTimeAsync(4_999)
      expect(passes).toBe(0)
      await vi.advanceTimersByTimeAsync(1)
      expect(passes).toBe(1)
      expect(errors).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(5_000)
      expect(passes).toBe(2)
      rescuer.abort()
      await rescuer
    })
  })
})
