// Helpers for the job tests: promises the test settles, a seeded random
// number generator, and handlers whose every run the test controls.
import { Channel } from '../../src/concurrency/channel.ts'
import { HandlerRegistry } from '../../src/jobs/handlers.ts'
import type { Job } from '../../src/jobs/job.ts'
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
