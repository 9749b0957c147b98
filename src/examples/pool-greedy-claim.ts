/**
 * Two instances share one store: A has one worker, B has three. A starts
 * first, and there are four jobs. A fetcher that claims a batch of four,
 * however many workers wait, next to the service's fetcher, which claims
 * only for the workers that are idle.
 */
import { setImmediate as turn } from 'node:timers/promises'
import { Channel } from '../concurrency/channel.ts'
import { spawn } from '../concurrency/task.ts'
import { createWake, runFetcher, wakeUp } from '../jobs/fetcher.ts'
import { HandlerRegistry } from '../jobs/handlers.ts'
import { WorkerPool } from '../jobs/pool.ts'
import { RunningJobs, type HeldAttempt } from '../jobs/running.ts'
import type { JobStore } from '../jobs/store/contract.ts'
import { MemoryStore } from '../jobs/store/memory.ts'
import { runIfMain, type Out } from './run.ts'

/** How many jobs each instance's workers have started. */
type Started = Map<string, number>

/** A `held` type: each run counts itself, then waits for the end. */
function heldJobs(name: string, started: Started, end: Promise<void>) {
  return new HandlerRegistry().register('held', {
    async run() {
      started.set(name, (started.get(name) ?? 0) + 1)
      await end
    },
  })
}

// #region greedy
/** How many jobs a fetcher asks for, the wrong way and the right way. */
const asks = {
  // WRONG: a batch of four, however many of its workers wait for one.
  batch: () => 4,
  // Right: as many as its workers that wait for one now.
  idle: (pool: WorkerPool) => pool.idle,
}
// #endregion greedy

/** One instance: its fetcher, its channel and its pool, on `store`. */
function instance(
  name: string,
  store: JobStore,
  size: number,
  ask: (pool: WorkerPool) => number,
  handlers: HandlerRegistry,
) {
  const running = new RunningJobs()
  const queue = new Channel<HeldAttempt>(0)
  const wake = createWake()
  const pool = new WorkerPool({
    size,
    store,
    queue,
    handlers,
    running,
    onIdle: () => wakeUp(wake),
  })
  const fetcher = spawn(`${name}-fetcher`, (signal) =>
    runFetcher({
      owner: name,
      store,
      queue,
      running,
      idleWorkers: () => ask(pool),
      leaseMs: 60_000,
      pollMs: 60_000,
      wake,
      signal,
    }),
  )
  return {
    running,
    async stop() {
      fetcher.abort()
      await fetcher
      queue.close()
      await pool.wait()
    },
  }
}

/** Lets every task that can run, run (no clock): claims are in memory. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await turn()
}

/** A starts, then B; what each holds and what B's workers started. */
export async function race(ask: (pool: WorkerPool) => number) {
  const store = new MemoryStore()
  for (let i = 0; i < 4; i++) await store.create({ type: 'held' })
  const started: Started = new Map()
  let end = () => {}
  const ended = new Promise<void>((resolve) => (end = resolve))
  const a = instance('A', store, 1, ask, heldJobs('A', started, ended))
  await settle()
  const b = instance('B', store, 3, ask, heldJobs('B', started, ended))
  await settle()
  const seen = {
    heldByA: a.running.size,
    startedByA: started.get('A') ?? 0,
    startedByB: started.get('B') ?? 0,
  }
  end()
  await Promise.all([a.stop(), b.stop()])
  return seen
}

export async function main(out: Out): Promise<void> {
  for (const [name, ask] of [
    ['a batch of 4', asks.batch],
    ['idle workers', asks.idle],
  ] as const) {
    const seen = await race(ask)
    out(
      `claims for ${name}: A holds ${seen.heldByA}, ` +
        `runs ${seen.startedByA}; B runs ${seen.startedByB}`,
    )
  }
}

runIfMain(import.meta.url, main)
