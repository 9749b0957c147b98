import { describe, expect, it } from 'vitest'
import { Channel } from '../../src/concurrency/channel.ts'
import { spawn } from '../../src/concurrency/task.ts'
import { JobEvents, type JobEvent } from '../../src/jobs/events.ts'
import { createWake, runFetcher, wakeUp } from '../../src/jobs/fetcher.ts'
import { HandlerRegistry } from '../../src/jobs/handlers.ts'
import { WorkerPool } from '../../src/jobs/pool.ts'
import { RunningJobs, type HeldAttempt } from '../../src/jobs/running.ts'
import type { JobStore } from '../../src/jobs/store/contract.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'
import { gatedHandlers, nextRun, seededRandom, type GatedRun } from './support.ts'

/**
 * One instance of the service's job side, over `store`: a fetcher that
 * claims for idle workers, the hand-off channel, and a pool.
 */
function instance(
  store: JobStore,
  handlers: HandlerRegistry,
  size: number,
  name = 'instance-1',
) {
  const running = new RunningJobs()
  const queue = new Channel<HeldAttempt>(0)
  const wake = createWake()
  const events: JobEvent[] = []
  const bus = new JobEvents()
  bus.subscribe((event) => events.push(event))
  const pool = new WorkerPool({
    size,
    store,
    queue,
    handlers,
    running,
    events: bus,
    onIdle: () => wakeUp(wake),
  })
  const fetcher = spawn(`${name}-fetcher`, (signal) =>
    runFetcher({
      owner: name,
      store,
      queue,
      running,
      idleWorkers: () => pool.idle,
      leaseMs: 60_000,
      pollMs: 60_000,
      typeLimits: handlers.limits(),
      wake,
      signal,
      events: bus,
    }),
  )
  return {
    pool,
    running,
    events,
    wake: () => wakeUp(wake),
    /** Stops in the service's order: fetcher, channel, workers. */
    async stop() {
      fetcher.abort()
      await fetcher
      queue.close()
      await pool.wait()
    },
  }
}

/**
 * `jobs` jobs through `instances` instances of `workers` workers each, on
 * one store. Every handler waits until the seeded generator picks it among
 * those running, so durations and finishing order are random but
 * repeatable, and every fetcher is woken at every creation, so that they
 * claim at the same moments: the claim alone must keep a job to one run.
 */
async function runRandomized(seed: number, jobs: number, instances: number, workers: number) {
  const random = seededRandom(seed)
  const { handlers, started, runs } = gatedHandlers()
  const store = new MemoryStore()
  const all = Array.from({ length: instances }, (_, i) =>
    instance(store, handlers, workers, `instance-${i + 1}`),
  )
  const created: string[] = []
  const running: GatedRun[] = []
  const ranTwice = () => [...runs.values()].some((count) => count > 1)
  const capacity = instances * workers
  for (let ended = 0; ended < jobs && !ranTwice(); ended++) {
    // Keep every worker busy when there are jobs for them...
    while (created.length < jobs && created.length - ended < capacity) {
      const { job } = await store.create({ type: 'gated', max_retries: 0 })
      created.push(job.id)
      for (const one of all) one.wake()
    }
    while (running.length < Math.min(capacity, created.length - ended)) {
      running.push(await nextRun(started))
    }
    // ...then end one run, chosen at random, with a random outcome.
    const [run] = running.splice(Math.floor(random() * running.length), 1)
    if (random() < 0.2) run?.fail('unlucky')
    else run?.finish()
  }
  for (const one of all) one.running.abortAll(new Error('test over'))
  await Promise.all(all.map((one) => one.stop()))
  return { created, runs, store }
}

describe('WorkerPool', () => {
  it.each([
    [1, 200, 1, 8],
    [2, 200, 3, 4],
    [3, 100, 2, 1],
    [4, 300, 4, 8],
  ])(
    'pool-exactly-once: seed %i, %i jobs, %i instances of %i workers: every job runs exactly once, none lost',
    async (seed, jobs, instances, workers) => {
      const { created, runs, store } = await runRandomized(seed, jobs, instances, workers)
      expect(new Set(created).size).toBe(jobs)
      expect([...runs.keys()].sort()).toEqual([...created].sort())
      expect([...runs.values()].every((count) => count === 1)).toBe(true)
      const { jobs: finished } = await store.list({ limit: jobs })
      expect(finished.every((job) => job.status === 'completed' || job.status === 'failed')).toBe(true)
      expect(finished.every((job) => job.attempts === 1)).toBe(true)
    },
  )

  it('pool-fan-out: the workers share the channel, so as many jobs run at once as there are workers; the rest wait in the store', async () => {
    const { handlers, started } = gatedHandlers()
    const store = new MemoryStore()
    for (let i = 0; i < 5; i++) await store.create({ type: 'gated' })
    const one = instance(store, handlers, 3)
    const runs = [await nextRun(started), await nextRun(started), await nextRun(started)]
    expect(started.length).toBe(0)
    // Claimed only for idle workers: two jobs wait in the store, where any
    // instance may claim them.
    expect(await store.countByStatus()).toMatchObject({ processing: 3, pending: 2 })
    for (const run of runs) run.finish()
    for (let i = 0; i < 2; i++) (await nextRun(started)).finish()
    await one.stop()
    expect((await store.countByStatus()).completed).toBe(5)
  })

  it('pool-stop-finishes-held-jobs: stopTaking lets held jobs finish; jobs not claimed stay pending in the store', async () => {
    const { handlers, started } = gatedHandlers()
    const store = new MemoryStore()
    for (let i = 0; i < 4; i++) await store.create({ type: 'gated' })
    const one = instance(store, handlers, 2)
    const runs = [await nextRun(started), await nextRun(started)]
    one.pool.stopTaking()
    for (const run of runs) run.finish()
    await one.stop()
    const { jobs } = await store.list({ limit: 10 })
    expect(jobs.map((job) => job.status)).toEqual(['completed', 'completed', 'pending', 'pending'])
  })

  it('pool-type-limits: a type with a concurrency limit never holds more workers than that', async () => {
    const { handlers, started } = gatedHandlers()
    handlers.register('cpu', { run: handlers.get('gated')!.run, concurrency: 1 })
    const store = new MemoryStore()
    for (let i = 0; i < 3; i++) await store.create({ type: 'cpu' })
    await store.create({ type: 'gated' })
    const one = instance(store, handlers, 3)
    const first = [await nextRun(started), await nextRun(started)]
    expect(first.map((run) => run.job.type).sort()).toEqual(['cpu', 'gated'])
    expect(await store.countByStatus()).toMatchObject({ processing: 2, pending: 2 })
    // The third worker stays idle: the next `cpu` waits for the first.
    first.find((run) => run.job.type === 'cpu')!.finish()
    const second = await nextRun(started)
    expect(second.job.type).toBe('cpu')
    second.finish()
    ;(await nextRun(started)).finish()
    first.find((run) => run.job.type === 'gated')!.finish()
    await one.stop()
    expect((await store.countByStatus()).completed).toBe(4)
  })

  it('pool-many-workers: fifty idle workers add one listener to the pool\'s signal, so Node warns of nothing, and stopTaking still stops them all', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.name)
    process.on('warning', onWarning)
    try {
      const queue = new Channel<HeldAttempt>(0)
      const pool = new WorkerPool({
        size: 50,
        store: new MemoryStore(),
        queue,
        handlers: gatedHandlers().handlers,
        running: new RunningJobs(),
      })
      // Each worker waits on the channel; Node warns on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
      expect(pool.idle).toBe(50)
      expect(warnings).not.toContain('MaxListenersExceededWarning')
      pool.stopTaking()
      await pool.wait()
      expect(pool.idle).toBe(0)
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('refuses a size that is not a whole number from 1', () => {
    const deps = {
      store: new MemoryStore(),
      queue: new Channel<HeldAttempt>(0),
      handlers: gatedHandlers().handlers,
      running: new RunningJobs(),
    }
    for (const size of [0, -1, 1.5, Number.NaN]) {
      expect(() => new WorkerPool({ ...deps, size })).toThrow(
        new RangeError(`Expected \`size\` to be an integer from 1 and up, got \`${size}\``),
      )
    }
  })
})

describe('supervision', () => {
  /** A channel whose first `failures` receives fail, as a bug would. */
  function failingChannel(failures: number) {
    const channel = new Channel<HeldAttempt>(10)
    const recv = channel.recv.bind(channel)
    let left = failures
    channel.recv = (options) => {
      if (left-- > 0) return Promise.reject(new Error(`bug #${failures - left}`))
      return recv(options)
    }
    return channel
  }

  it('pool-worker-replaced: a worker whose loop fails is reported and replaced, and the pool keeps its size', async () => {
    const events: JobEvent[] = []
    const bus = new JobEvents()
    bus.subscribe((event) => events.push(event))
    const queue = failingChannel(2)
    const pool = new WorkerPool({
      size: 2,
      store: new MemoryStore(),
      queue,
      handlers: new HandlerRegistry(),
      running: new RunningJobs(),
      events: bus,
      restartDelayMs: 0,
    })
    // Both workers failed once and were replaced: two wait for a job again.
    while (pool.idle < 2 || events.filter((e) => e.event === 'worker_crashed').length < 2) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(events.filter((e) => e.event === 'worker_crashed')).toMatchObject([
      { worker_id: 'worker-1', error: 'bug #1', crashes: 1 },
      { worker_id: 'worker-2', error: 'bug #2', crashes: 2 },
    ])
    queue.close()
    await pool.wait()
  })

  it('pool-gives-up: workers that keep failing make the pool give up and say so, once', async () => {
    const gaveUp: unknown[] = []
    const pool = new WorkerPool({
      size: 2,
      store: new MemoryStore(),
      queue: failingChannel(1_000),
      handlers: new HandlerRegistry(),
      running: new RunningJobs(),
      restartDelayMs: 0,
      maxCrashes: 5,
      onGiveUp: (error) => gaveUp.push(error),
    })
    await pool.wait()
    expect(gaveUp).toHaveLength(1)
    expect(String(gaveUp[0])).toMatch(/bug #5/)
  })
})
