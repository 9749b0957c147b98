/**
 * The tools this book's tests use instead of sleeps: a promise the test
 * settles (a deferred), a handler that waits on one, and a check of
 * whether a promise has settled that waits for nothing but the tasks
 * already able to run.
 */
import { setImmediate } from 'node:timers/promises'
import { Channel } from '../concurrency/channel.ts'
import { HandlerRegistry } from '../jobs/handlers.ts'
import { WorkerPool } from '../jobs/pool.ts'
import { RunningJobs, type HeldAttempt } from '../jobs/running.ts'
import { MemoryStore } from '../jobs/store/memory.ts'
import { runIfMain, type Out } from './run.ts'

// #region deferred
/** A promise, and the functions that settle it, for a test to hold. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
// #endregion deferred

// #region controlled-handler
/**
 * A registry with one type, `held`, whose every run waits until the test
 * releases it by job id (or its signal aborts). `started` resolves with
 * each job's id when its run begins, so a test waits for that, not for
 * time.
 */
export function controlledHandlers() {
  const gates = new Map<string, ReturnType<typeof deferred<void>>>()
  // The first run only: enough for the one-job examples and tests here.
  const started = deferred<string>()
  const handlers = new HandlerRegistry().register('held', {
    run(job, { signal }) {
      const gate = deferred<void>()
      gates.set(job.id, gate)
      const onAbort = () => gate.reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      started.resolve(job.id)
      return gate.promise.finally(() => {
        signal.removeEventListener('abort', onAbort)
        gates.delete(job.id)
      })
    },
  })
  const release = (id: string) => gates.get(id)?.resolve()
  return { handlers, started: started.promise, release }
}
// #endregion controlled-handler

// #region settled-yet
/**
 * Whether `promise` has settled once every task that can run has run (one
 * turn of the event loop). A bounded check: it proves "not yet", never
 * "never", and it waits for no clock.
 */
export async function settledYet(
  promise: Promise<unknown>,
): Promise<boolean> {
  let settled = false
  const mark = () => void (settled = true)
  promise.then(mark, mark)
  await setImmediate()
  return settled
}
// #endregion settled-yet

/**
 * One worker and one `held` job, handed to it the way the fetcher does:
 * claimed in the store, held, sent over the channel.
 */
export async function oneHeldJob(maxRetries = 3) {
  const { handlers, started, release } = controlledHandlers()
  const store = new MemoryStore()
  const running = new RunningJobs()
  const queue = new Channel<HeldAttempt>(1)
  const pool = new WorkerPool({ size: 1, store, queue, handlers, running })
  await store.create({ type: 'held', max_retries: maxRetries })
  const [claimed] = await store.claim('example', 1, 60_000)
  queue.trySend(running.hold(claimed!))
  return { store, queue, pool, started, release }
}

export async function main(out: Out): Promise<void> {
  const { store, queue, pool, started, release } = await oneHeldJob()
  const id = await started // the run has begun: no guessing how long
  out(`running: ${(await store.get(id))?.status}`)
  const ended = pool.wait()
  pool.stopTaking()
  out(`workers ended while the job is held: ${await settledYet(ended)}`)
  release(id)
  await ended
  out(`after release: ${(await store.get(id))?.status}`)
  queue.close()
}

runIfMain(import.meta.url, main)
