// Helpers for the job tests: promises the test settles, a seeded random
// number generator, and handlers whose every run the test controls.
import { Channel } from '../../src/concurrency/channel.ts'
import { JobEvents, type JobEvent } from '../../src/jobs/events.ts'
import { HandlerRegistry } from '../../src/jobs/handlers.ts'
import type { Job, NewJob } from '../../src/jobs/job.ts'
import { RunningJobs, type HeldAttempt } from '../../src/jobs/running.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'
import type { HandOff } from '../../src/jobs/worker.ts'
import { deferred, type Deferred } from '../support/promises.ts'

export { deferred, type Deferred }


/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A handler run that waits for the test: `finish()` or `fail()` ends it. */
export interface GatedRun {
  readonly job: Job
  readonly signal: AbortSignal
  finish(): void
  fail(message: string): void
}

/**
 * A registry with one type, `gated`, whose runs wait until the test ends
 * them. Each run is announced on `started` (in the order they start) and
 * counted in `runs` by job id.
 */
export function gatedHandlers(capacity = 10_000) {
  const started = new Channel<GatedRun>(capacity)
  const runs = new Map<string, number>()
  const handlers = new HandlerRegistry().register('gated', {
    run(job, { signal }) {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1)
      const gate = deferred()
      if (signal.aborted) gate.reject(signal.reason)
      const onAbort = () => gate.reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      started.trySend({
        job,
        signal,
        finish: () => gate.resolve(),
        fail: (message) => gate.reject(new Error(message)),
      })
      return gate.promise.finally(() => signal.removeEventListener('abort', onAbort))
    },
  })
  return { handlers, started, runs }
}

/** The next run that starts (fails the test if none is announced). */
export async function nextRun(started: Channel<GatedRun>): Promise<GatedRun> {
  const received = await started.recv()
  if (!received.ok) throw new Error('no more runs')
  return received.value
}

/**
 * Like `gatedHandlers`, plus a type `stubborn` whose runs ignore their
 * signal: they end only when the test calls `finish()` or `fail()`.
 */
export function gatedAndStubbornHandlers(capacity = 10_000) {
  const gated = gatedHandlers(capacity)
  gated.handlers.register('stubborn', {
    run(job, { signal }) {
      gated.runs.set(job.id, (gated.runs.get(job.id) ?? 0) + 1)
      const gate = deferred()
      gated.started.trySend({
        job,
        signal,
        finish: () => gate.resolve(),
        fail: (message) => gate.reject(new Error(message)),
      })
      return gate.promise
    },
  })
  return gated
}

/**
 * A worker's world for one test: a memory store (on the clock `now`,
 * default real), the attempts held, the hand-off channel, and `deliver`,
 * which does the fetcher's part by hand: create a job, claim it, hold it
 * and send it to whichever worker waits.
 */
export function workerWorld(options: { now?: () => Date } = {}) {
  const store = new MemoryStore({ now: options.now ?? (() => new Date()) })
  const running = new RunningJobs()
  const queue: HandOff = new Channel<HeldAttempt>(100)
  const events: JobEvent[] = []
  const bus = new JobEvents()
  bus.subscribe((event) => events.push(event))
  async function deliver(input: NewJob | string = 'gated'): Promise<string> {
    const job = typeof input === 'string' ? { type: input } : input
    const { job: created } = await store.create(job)
    const [claimed] = await store.claim('test-owner', 1, 60_000, {
      types: [created.type],
    })
    if (claimed?.job.id !== created.id) throw new Error('claimed another job')
    queue.trySend(running.hold(claimed))
    return created.id
  }
  const names = () =>
    events.map((e) => e.event).filter((e) => !e.startsWith('worker_'))
  return { store, running, queue, events, bus, deliver, names }
}
