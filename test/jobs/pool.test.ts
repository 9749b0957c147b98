import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { spawn } from '../../src/concurrency/task.ts'
import { MemoryStore } from '../../src/jobs/memory-store.ts'
import { WorkerPool } from '../../src/jobs/pool.ts'
import { createJobQueue } from '../../src/jobs/queue.ts'
import { submitJob } from '../../src/jobs/submit.ts'
import { QueueFullError } from '../../src/jobs/errors.ts'
import type { JobStatus } from '../../src/jobs/job.ts'
import { gatedHandlers, nextRun, seededRandom, type GatedRun } from './support.ts'

/**
 * `jobs` jobs through `workers` workers and a queue of `capacity`; every
 * handler waits until the seeded generator picks it among those running,
 * so durations and finishing order are random but repeatable. About a
 * third of the ids are delivered twice, as a re-enqueue would: the queue
 * alone does not make a job run once, the claim does.
 */
async function runRandomized(seed: number, jobs: number, workers: number, capacity: number) {
  const random = seededRandom(seed)
  const { handlers, started, runs } = gatedHandlers()
  const store = new MemoryStore()
  const queue = createJobQueue(capacity)
  const pool = new WorkerPool({ size: workers, store, queue, handlers })

  // The producer waits for room (send, not trySend) so that none is refused.
  const created: string[] = []
  const producer = spawn('producer', async () => {
    for (let i = 0; i < jobs; i++) {
      // No retries here: a failed attempt is final, so each job runs once.
      const job = await store.create({ type: 'gated', max_retries: 0 })
      created.push(job.id)
      await queue.send(job.id)
      // The copy goes with no wait, so two workers may take the two at once.
      if (random() < 0.3) queue.trySend(job.id)
    }
    queue.close()
  })

  const running: GatedRun[] = []
  const ranTwice = () => [...runs.values()].some((count) => count > 1)
  for (let released = 0; released < jobs && !ranTwice(); released++) {
    // Wait until every worker that can be busy is busy, then end one run
    // chosen at random, with a random outcome.
    while (running.length < Math.min(workers, jobs - released)) {
      running.push(await nextRun(started))
    }
    const [run] = running.splice(Math.floor(random() * running.length), 1)
    if (random() < 0.2) run?.fail('unlucky')
    else run?.finish()
  }
  // Any run beyond one per job would be a bug; end it so the pool stops.
  // (Otherwise the workers drain the closed queue and return by themselves.)
  if (ranTwice()) pool.abortJobs(new Error('extra run'))
  await producer
  await pool.wait()
  return { created, runs, store }
}

describe('WorkerPool', () => {
  it.each([
    [1, 200, 8, 16],
    [2, 200, 8, 1],
    [3, 100, 1, 5],
    [4, 300, 32, 100],
  ])(
    'pool-exactly-once: seed %i, %i jobs, %i workers, capacity %i: every job runs exactly once, none lost',
    async (seed, jobs, workers, capacity) => {
      const { created, runs, store } = await runRandomized(seed, jobs, workers, capacity)
      expect(new Set(created).size).toBe(jobs)
      expect([...runs.keys()].sort()).toEqual([...created].sort())
      expect([...runs.values()].every((count) => count === 1)).toBe(true)
      const finished = await store.list()
      expect(finished.every((job) => job.status === 'completed' || job.status === 'failed')).toBe(true)
      expect(finished.every((job) => job.attempts === 1)).toBe(true)
    },
  )

  it('pool-fan-out: the workers share the one queue, so as many jobs run at once as there are workers', async () => {
    const { handlers, started } = gatedHandlers()
    const store = new MemoryStore()
    const queue = createJobQueue(10)
    const pool = new WorkerPool({ size: 3, store, queue, handlers })
    for (let i = 0; i < 5; i++) queue.trySend((await store.create({ type: 'gated' })).id)
    const runs = [await nextRun(started), await nextRun(started), await nextRun(started)]
    expect(await store.list({ status: 'processing' })).toHaveLength(3)
    expect(started.length).toBe(0)
    expect(queue.length).toBe(2)
    for (const run of runs) run.finish()
    for (let i = 0; i < 2; i++) (await nextRun(started)).finish()
    queue.close()
    await pool.wait()
    expect(await store.list({ status: 'completed' })).toHaveLength(5)
  })

  it('pool-stop-finishes-held-jobs: stopTaking lets held jobs finish and leaves queued ones pending', async () => {
    const { handlers, started } = gatedHandlers()
    const store = new MemoryStore()
    const queue = createJobQueue(10)
    const pool = new WorkerPool({ size: 2, store, queue, handlers })
    for (let i = 0; i < 4; i++) queue.trySend((await store.create({ type: 'gated' })).id)
    const runs = [await nextRun(started), await nextRun(started)]
    pool.stopTaking()
    for (const run of runs) run.finish()
    await pool.wait()
    expect((await store.list()).map((job) => job.status)).toEqual([
      'completed',
      'completed',
      'pending',
      'pending',
    ])
  })

  it('refuses a size that is not a whole number from 1', () => {
    const deps = { store: new MemoryStore(), queue: createJobQueue(1), handlers: gatedHandlers().handlers }
    expect(() => new WorkerPool({ ...deps, size: 0 })).toThrow(RangeError)
  })
})

// ---- model-based test ---------------------------------------------------

/** What the test believes the system holds. */
interface Model {
  readonly capacity: number
  idle: number
  buffered: string[]
  running: string[]
  readonly statuses: Map<string, JobStatus>
}

interface Real {
  readonly store: MemoryStore
  readonly submit: () => Promise<string | undefined>
  readonly redeliver: (id: string) => boolean
  readonly running: Map<string, GatedRun>
  readonly runs: Map<string, number>
}

/**
 * Lets every pending promise reaction run. Every step of this system
 * (memory store, channel, handlers the test gates) is a microtask, so one
 * turn of the event loop runs them all: this waits for no time.
 */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Moves buffered ids to idle workers, as the real workers do. */
function dispatch(model: Model): void {
  while (model.idle > 0 && model.buffered.length > 0) {
    const id = model.buffered.shift() as string
    // A worker skips an id whose job is not pending, and stays idle.
    if (model.statuses.get(id) !== 'pending') continue
    model.idle -= 1
    model.running.push(id)
    model.statuses.set(id, 'processing')
  }
}

class SubmitCommand implements fc.AsyncCommand<Model, Real> {
  /** With `twice`, the id is sent again at once, as a re-enqueue might. */
  constructor(readonly twice: boolean) {}
  check = () => true
  async run(model: Model, real: Real) {
    // Until the workers run, an idle worker's receive takes an id at once,
    // and the rest go to the buffer.
    const hasRoom = () => model.buffered.length - model.idle < model.capacity
    const accepted = hasRoom()
    const id = await real.submit()
    expect(id !== undefined).toBe(accepted)
    if (id === undefined) return
    model.statuses.set(id, 'pending')
    model.buffered.push(id)
    if (this.twice) {
      // Sent in the same turn, before any worker has run.
      const expected = hasRoom()
      expect(real.redeliver(id)).toBe(expected)
      if (expected) model.buffered.push(id)
    }
    await settle()
    dispatch(model)
    await checkAgainstModel(model, real)
  }
  toString = () => (this.twice ? 'submit-twice' : 'submit')
}

class FinishCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly fails: boolean,
  ) {}
  check = (model: Readonly<Model>) => model.running.length > 0
  async run(model: Model, real: Real) {
    const [id] = model.running.splice(this.pick % model.running.length, 1) as [string]
    const run = real.running.get(id)
    expect(run, `job ${id} should be running`).toBeDefined()
    real.running.delete(id)
    if (this.fails) run?.fail('failed on purpose')
    else run?.finish()
    await settle()
    model.statuses.set(id, this.fails ? 'failed' : 'completed')
    model.idle += 1
    dispatch(model)
    await checkAgainstModel(model, real)
  }
  toString = () => `finish(${this.pick}, ${this.fails ? 'fail' : 'ok'})`
}

class RedeliverCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.statuses.size > 0
  async run(model: Model, real: Real) {
    const ids = [...model.statuses.keys()]
    const id = ids[this.pick % ids.length] as string
    const sent = real.redeliver(id)
    await settle()
    expect(sent).toBe(model.idle > 0 || model.buffered.length < model.capacity)
    if (sent) {
      model.buffered.push(id)
      dispatch(model)
    }
    await checkAgainstModel(model, real)
  }
  toString = () => `redeliver(${this.pick})`
}

/** After each command, the store and the handlers agree with the model. */
async function checkAgainstModel(model: Model, real: Real) {
  const jobs = await real.store.list()
  expect(new Map(jobs.map((job) => [job.id, job.status]))).toEqual(model.statuses)
  expect([...real.running.keys()].sort()).toEqual([...model.running].sort())
  for (const count of real.runs.values()) expect(count).toBe(1)
}

describe('WorkerPool against a model', () => {
  it('pool-model-based: any sequence of submits, redeliveries and finishes runs every job at most once, in queue order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.commands(
          [
            fc.boolean().map((twice) => new SubmitCommand(twice)),
            fc.tuple(fc.nat(), fc.boolean()).map(([pick, fails]) => new FinishCommand(pick, fails)),
            fc.nat().map((pick) => new RedeliverCommand(pick)),
          ],
          { size: '+1' },
        ),
        async (workers, capacity, commands) => {
          const { handlers, started, runs } = gatedHandlers()
          const store = new MemoryStore()
          const queue = createJobQueue(capacity)
          const pool = new WorkerPool({ size: workers, store, queue, handlers })
          const running = new Map<string, GatedRun>()
          // Keep `running` up to date as runs start.
          const watcher = spawn('watcher', async () => {
            for await (const run of started) running.set(run.job.id, run)
          })
          const real: Real = {
            store,
            running,
            runs,
            redeliver: (id) => queue.trySend(id),
            submit: async () => {
              try {
                const input = { type: 'gated', max_retries: 0 }
                return (await submitJob({ store, queue, handlers }, input)).id
              } catch (error) {
                if (error instanceof QueueFullError) return undefined
                throw error
              }
            },
          }
          const model: Model = { capacity, idle: workers, buffered: [], running: [], statuses: new Map() }
          try {
            await fc.asyncModelRun(() => ({ model, real }), commands)
          } finally {
            pool.stopTaking()
            pool.abortJobs(new Error('test over'))
            await pool.wait()
            started.close()
            await watcher
          }
        },
      ),
      { numRuns: 40, seed: 20240601 },
    )
  })
})
