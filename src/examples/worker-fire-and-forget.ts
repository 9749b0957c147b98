/**
 * One worker, five jobs: a worker loop that starts each job without
 * awaiting it, next to `runWorker`, which awaits each attempt before it
 * takes the next. The jobs are the same: each counts itself running, lets
 * every other ready task run, and ends.
 */
import { setImmediate as turn } from 'node:timers/promises'
import { Channel } from '../concurrency/channel.ts'
import { HandlerRegistry } from '../jobs/handlers.ts'
import type { Job } from '../jobs/job.ts'
import { RunningJobs, type HeldAttempt } from '../jobs/running.ts'
import { MemoryStore } from '../jobs/store/memory.ts'
import { runWorker } from '../jobs/worker.ts'
import { runIfMain, type Out } from './run.ts'

/** Counts the jobs running at once, and the most there ever were. */
export function counter() {
  const count = { running: 0, most: 0, ended: 0 }
  const run = async (): Promise<void> => {
    count.running += 1
    count.most = Math.max(count.most, count.running)
    await turn() // the job's work: other tasks may run meanwhile
    await turn()
    count.running -= 1
    count.ended += 1
  }
  return { count, run }
}

// #region fire-and-forget
/** WRONG: starts each job and goes back for the next, awaiting none. */
export async function fireAndForgetWorker(
  queue: Channel<Job>,
  run: (job: Job) => Promise<void>,
): Promise<void> {
  for await (const job of queue) {
    void run(job).catch(() => {}) // no one waits for it, or hears it fail
  }
}
// #endregion fire-and-forget

/** The wrong worker on `n` jobs: the most at once, and what it left. */
export async function wrongWay(n: number) {
  const { count, run } = counter()
  const store = new MemoryStore()
  const queue = new Channel<Job>(n)
  for (let i = 0; i < n; i++) {
    queue.trySend((await store.create({ type: 'count' })).job)
  }
  queue.close()
  await fireAndForgetWorker(queue, run)
  const seen = { most: count.most, runningAtReturn: count.running }
  while (count.ended < n) await turn() // let the strays end: no leak
  return seen
}

/** `runWorker` on `n` claimed jobs: the same two numbers. */
export async function rightWay(n: number) {
  const { count, run } = counter()
  const store = new MemoryStore()
  const running = new RunningJobs()
  const queue = new Channel<HeldAttempt>(n)
  for (let i = 0; i < n; i++) await store.create({ type: 'count' })
  for (const claimed of await store.claim('example', n, 60_000)) {
    queue.trySend(running.hold(claimed))
  }
  queue.close()
  const handlers = new HandlerRegistry().register('count', { run })
  const signal = new AbortController().signal
  await runWorker({ name: 'worker-1', store, queue, handlers, running, signal })
  return { most: count.most, runningAtReturn: count.running }
}

export async function main(out: Out): Promise<void> {
  const wrong = await wrongWay(5)
  out(`fire and forget: ${wrong.most} jobs at once; ` +
    `returned with ${wrong.runningAtReturn} still running`)
  const right = await rightWay(5)
  out(`runWorker:       ${right.most} job at once; ` +
    `returned with ${right.runningAtReturn} still running`)
}

runIfMain(import.meta.url, main)
