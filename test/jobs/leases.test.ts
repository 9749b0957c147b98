import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { spawn } from '../../src/concurrency/task.ts'
import { JobCanceledError, LeaseLostError } from '../../src/jobs/errors.ts'
import { JobEvents, type JobEvent } from '../../src/jobs/events.ts'
import { heartbeat, runLeaseKeeper } from '../../src/jobs/leases.ts'
import { RunningJobs } from '../../src/jobs/running.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'

async function setup(jobs = 2) {
  const store = new MemoryStore()
  const running = new RunningJobs()
  const events: JobEvent[] = []
  const bus = new JobEvents()
  bus.subscribe((event) => events.push(event))
  for (let i = 0; i < jobs; i++) await store.create({ type: 'noop' })
  const held = (await store.claim('me', jobs, 1_000)).map((c) => running.hold(c))
  return { store, running, events, bus, held, options: { store, running, leaseMs: 1_000, events: bus } }
}

describe('the lease keeper', () => {
  it('leases-renewed: a heartbeat extends every held lease by the lease length', async () => {
    const t = await setup()
    await heartbeat({ ...t.options, leaseMs: 60_000, signal: new AbortController().signal })
    // Expired at 1 s if not renewed; renewed to a minute: no rescue.
    expect(await t.store.rescue({ baseMs: 0, maxMs: 0 })).toEqual([])
    expect(t.held.every((a) => !a.signal.aborted)).toBe(true)
  })

  it('leases-lost-aborts: a lease found lost aborts its handler with LeaseLostError', async () => {
    const t = await setup()
    const [lost, kept] = t.held
    await t.store.rescue({ baseMs: 0, maxMs: 0, all: true }) // both given back...
    const [again] = await t.store.claim('me', 1, 1_000) // ...one claimed anew
    t.running.release(t.held.find((a) => a.job.id === again!.job.id)!)
    const fresh = t.running.hold(again!)
    await heartbeat({ ...t.options, signal: new AbortController().signal })
    const abortedOld = [lost, kept].filter((a) => a!.signal.aborted)
    expect(abortedOld.map((a) => a!.signal.reason)).toEqual([
      expect.any(LeaseLostError),
    ])
    expect(fresh.signal.aborted).toBe(false)
    expect(t.events.map((e) => e.event)).toEqual(['job_lease_lost'])
  })

  it('leases-cancel-requested: a cancel flagged in the store, by any instance, aborts the handler', async () => {
    const t = await setup(1)
    await t.store.requestCancel(t.held[0]!.job.id)
    await heartbeat({ ...t.options, signal: new AbortController().signal })
    expect(t.held[0]!.signal.reason).toBeInstanceOf(JobCanceledError)
    expect(t.held[0]!.canceled).toBe(true)
  })

  describe('on a timer', () => {
    beforeEach(() => {
      vi.useFakeTimers()
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    it('leases-every-third: renews at a third of the lease, and a failed heartbeat is reported, not fatal', async () => {
      const t = await setup(1)
      const calls: number[] = []
      const renew = t.store.heartbeat.bind(t.store)
      t.store.heartbeat = (leases, ms) => {
        calls.push(Date.now())
        return calls.length === 1 ? Promise.reject(new Error('db down')) : renew(leases, ms)
      }
      const errors: unknown[] = []
      const keeper = spawn('keeper', (signal) =>
        runLeaseKeeper({ ...t.options, leaseMs: 900, signal, onError: (e) => errors.push(e) }),
      )
      await vi.advanceTimersByTimeAsync(299)
      expect(calls).toHaveLength(0)
      await vi.advanceTimersByTimeAsync(1)
      expect(calls).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(300)
      expect(calls).toHaveLength(2)
      expect(errors).toHaveLength(1)
      keeper.abort()
      await keeper
    })
  })
})
