import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Channel } from '../../src/concurrency/channel.ts'
import { spawn } from '../../src/concurrency/task.ts'
import { StoreUnavailableError } from '../../src/jobs/errors.ts'
import { JobEvents, type JobEvent } from '../../src/jobs/events.ts'
import { createWake, runFetcher, wakeUp, type FetcherOptions } from '../../src/jobs/fetcher.ts'
import { RunningJobs, type HeldAttempt } from '../../src/jobs/running.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'

/** A fetcher whose workers are the test's `take()` calls. */
function setup(overrides: Partial<FetcherOptions> = {}) {
  const store = new MemoryStore()
  const running = new RunningJobs()
  const queue = new Channel<HeldAttempt>(0)
  const wake = createWake()
  const events: JobEvent[] = []
  const bus = new JobEvents()
  bus.subscribe((event) => events.push(event))
  const errors: unknown[] = []
  let idleWorkers = 0
  const options: Omit<FetcherOptions, 'signal'> = {
    owner: 'me',
    store,
    queue,
    running,
    idleWorkers: () => idleWorkers,
    leaseMs: 60_000,
    pollMs: 1_000,
    wake,
    events: bus,
    onError: (error) => errors.push(error),
    ...overrides,
  }
  const fetcher = spawn('fetcher', (signal) => runFetcher({ ...options, signal }))
  /** An idle worker: waits for the next job, as the pool's do. */
  async function take(): Promise<HeldAttempt> {
    idleWorkers += 1
    wakeUp(wake)
    try {
      const received = await queue.recv()
      if (!received.ok) throw new Error('closed')
      return received.value
    } finally {
      idleWorkers -= 1
    }
  }
  return {
    store,
    running,
    queue,
    events,
    errors,
    fetcher,
    take,
    wake: () => wakeUp(wake),
    async stop() {
      fetcher.abort()
      await fetcher
    },
  }
}

describe('runFetcher', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('fetcher-wakes-on-create: a wake-up after a job is created hands it to an idle worker, with no poll', async () => {
    const t = setup()
    const taking = t.take()
    await vi.advanceTimersByTimeAsync(0) // the fetcher looked, found none, sleeps
    const { job } = await t.store.create({ type: 'noop' })
    t.wake()
    // No fake time passes: the poll cannot be what found it.
    const attempt = await taking
    expect(attempt.job.id).toBe(job.id)
    expect(attempt.lease).toEqual({ id: job.id, owner: 'me', attempt: 1 })
    expect(t.running.get(job.id)).toBe(attempt) // held: renewed, cancelable
    await t.stop()
  })

  it('fetcher-polls: with no wake-up, a job is found at the next poll', async () => {
    const t = setup()
    let taken = false
    const taking = t.take().then(() => (taken = true))
    await vi.advanceTimersByTimeAsync(0)
    await t.store.create({ type: 'noop' })
    await vi.advanceTimersByTimeAsync(999)
    expect(taken).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await taking
    expect(taken).toBe(true)
    await t.stop()
  })

  it('re-arms one poll timer across sleeps, and leaves none behind once stopped', async () => {
    const t = setup()
    await vi.advanceTimersByTimeAsync(0) // no idle worker: it sleeps
    for (let i = 0; i < 3; i++) {
      t.wake()
      await vi.advanceTimersByTimeAsync(0) // woke, looked, sleeps again
      expect(vi.getTimerCount()).toBe(1)
    }
    await vi.advanceTimersByTimeAsync(5_000) // polls, five times
    expect(vi.getTimerCount()).toBe(1)
    await t.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('fetcher-claims-for-idle: it claims no more jobs than there are idle workers', async () => {
    const t = setup()
    for (let i = 0; i < 5; i++) await t.store.create({ type: 'noop' })
    await Promise.all([t.take(), t.take()])
    await vi.advanceTimersByTimeAsync(5_000)
    expect(await t.store.countByStatus()).toMatchObject({ processing: 2, pending: 3 })
    await t.stop()
  })

  it('fetcher-releases-on-stop: jobs it claimed and no worker took go back, claimable at once, the attempt not counted', async () => {
    // Three workers were idle when it claimed; then two went away.
    let idle = 3
    const t = setup({ idleWorkers: () => idle })
    for (let i = 0; i < 3; i++) await t.store.create({ type: 'noop' })
    const first = await t.take()
    idle = 0
    await vi.advanceTimersByTimeAsync(0)
    await t.stop()
    expect(await t.store.countByStatus()).toMatchObject({ processing: 1, pending: 2 })
    const released = t.events.filter((e) => e.event === 'job_released')
    expect(released).toHaveLength(2)
    expect(t.running.ids()).toEqual([first.job.id])
    const { jobs } = await t.store.list({ status: 'pending', limit: 10 })
    expect(jobs.every((job) => job.attempts === 0)).toBe(true)
  })

  describe('a claim split among types with limits', () => {
    /** A memory store that records what each claim asks for. */
    function recordingStore() {
      const store = new MemoryStore()
      const asked: unknown[] = []
      const claim = store.claim.bind(store)
      store.claim = (owner, limit, leaseMs, options) => {
        asked.push({ limit, ...structuredClone(options) })
        return claim(owner, limit, leaseMs, options)
      }
      return { store, asked, claim }
    }

    it('asks each limited type for its room, no more than is still wanted, and the rest from other types', async () => {
      const { store, asked, claim } = recordingStore()
      for (const type of ['hash', 'hash', 'hash', 'cpu', 'cpu', 'cpu', 'noop', 'noop']) {
        await store.create({ type })
      }
      const [held] = await claim('me', 1, 60_000, { types: ['hash'] })
      let idle = 0
      const t = setup({
        store,
        idleWorkers: () => idle,
        typeLimits: new Map([['hash', 2], ['cpu', 1]]),
      })
      t.running.hold(held!) // one hash job runs here already: one place left
      await vi.advanceTimersByTimeAsync(0)
      idle = 4 // and no worker takes: the round ends at its first hand-off
      t.wake()
      await vi.advanceTimersByTimeAsync(0)
      expect(asked).toEqual([
        { limit: 1, types: ['hash'] },
        { limit: 1, types: ['cpu'] },
        { limit: 2, excludeTypes: ['hash', 'cpu'] },
      ])
      await t.stop()
    })

    it('asks a type with room to spare only for what is still wanted', async () => {
      const { store, asked } = recordingStore()
      for (const type of ['hash', 'cpu', 'cpu', 'cpu', 'noop']) await store.create({ type })
      let idle = 0
      const t = setup({
        store,
        idleWorkers: () => idle,
        typeLimits: new Map([['hash', 2], ['cpu', 3]]),
      })
      await vi.advanceTimersByTimeAsync(0)
      idle = 2
      t.wake()
      await vi.advanceTimersByTimeAsync(0)
      // One hash job was all there was; one worker is still wanted, not three.
      expect(asked).toEqual([
        { limit: 2, types: ['hash'] },
        { limit: 1, types: ['cpu'] },
      ])
      await t.stop()
    })
  })

  it('fetcher-backs-off: a claim that fails is reported and retried after a growing pause', async () => {
    const store = new MemoryStore()
    let failures = 2
    const claim = store.claim.bind(store)
    store.claim = (...args) =>
      failures-- > 0 ? Promise.reject(new StoreUnavailableError('down')) : claim(...args)
    const t = setup({ store })
    await store.create({ type: 'noop' })
    let taken = false
    const taking = t.take().then(() => (taken = true))
    await vi.advanceTimersByTimeAsync(0)
    expect(t.errors).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(100) // first pause: 100 ms
    expect(t.errors).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(199)
    expect(taken).toBe(false)
    await vi.advanceTimersByTimeAsync(1) // second pause: 200 ms
    await taking
    expect(taken).toBe(true)
    await t.stop()
  })
})
