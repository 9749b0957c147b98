/**
 * One job whose upstream is down for its first two seconds, run by the
 * real worker's `runAttempt` on a memory store with a clock the example
 * moves: each attempt starts the moment its job is due. Once retried at
 * once, once with the default backoff (jitter fixed at half, so that
 * every run prints the same).
 */
import { Channel } from '../concurrency/channel.ts'
import { HandlerRegistry } from '../jobs/handlers.ts'
import type { RetryPolicy } from '../jobs/retry.ts'
import { RunningJobs, type HeldAttempt } from '../jobs/running.ts'
import { MemoryStore } from '../jobs/store/memory.ts'
import { runAttempt } from '../jobs/worker.ts'
import { runIfMain, type Out } from './run.ts'

const OUTAGE_MS = 2_000

// #region policies
const policies: Record<string, RetryPolicy> = {
  // WRONG: try again at once, as many times as allowed.
  'at once': { baseMs: 0, maxMs: 0, random: () => 0.5 },
  // The default: 1 s, doubling up to a minute, with jitter.
  'with backoff': { baseMs: 1_000, maxMs: 60_000, random: () => 0.5 },
}
// #endregion policies

/** Runs one job to its end; when each attempt started, and how it ended. */
export async function runThrough(retry: RetryPolicy) {
  const t0 = Date.parse('2030-01-01T00:00:00Z')
  let now = t0
  const store = new MemoryStore({ now: () => new Date(now) })
  const handlers = new HandlerRegistry().register('email', {
    async run() {
      if (now - t0 < OUTAGE_MS) throw new Error('mail server unavailable')
    },
  })
  const running = new RunningJobs()
  const queue = new Channel<HeldAttempt>(0) // unused: the loop hands over
  const { job } = await store.create({ type: 'email', max_retries: 3 })
  const startedAt: number[] = []
  for (;;) {
    const current = (await store.get(job.id))!
    if (current.status === 'completed' || current.status === 'failed') {
      return { startedAt, status: current.status }
    }
    now = Math.max(now, Date.parse(current.run_at)) // wait until it is due
    const [claimed] = await store.claim('worker-1', 1, 60_000)
    startedAt.push(now - t0)
    const options = { name: 'worker-1', store, queue, handlers, running, retry }
    await runAttempt(options, running.hold(claimed!))
  }
}

export async function main(out: Out): Promise<void> {
  out(`the mail server is down for the first ${OUTAGE_MS} ms`)
  for (const [name, policy] of Object.entries(policies)) {
    const { startedAt, status } = await runThrough(policy)
    const at = startedAt.join(', ')
    out(`retried ${`${name}:`.padEnd(14)} attempts at ${at} ms: ${status}`)
  }
}

runIfMain(import.meta.url, main)
