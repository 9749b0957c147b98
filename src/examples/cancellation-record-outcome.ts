// The seed's bug: a worker that records "failed" for a cancelled job with
// the cancelled signal. The store refuses the write; the record is lost.
import { sleep } from '../concurrency/abort.ts'
import { runIfMain, type Out } from './run.ts'

// #region store
/** A tiny store whose save, like a database call, takes a signal. */
export class OutcomeStore {
  readonly outcomes = new Map<string, string>()

  async save(
    id: string,
    outcome: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    options.signal?.throwIfAborted() // a cancelled call does nothing
    this.outcomes.set(id, outcome)
  }
}
// #endregion store

// #region record-bad
export async function runJobBad(
  id: string,
  store: OutcomeStore,
  signal: AbortSignal,
): Promise<void> {
  try {
    await sleep(1000, { signal }) // the job's work
    await store.save(id, 'completed', { signal })
  } catch (error) {
    // Bug: the signal that cancelled the job also cancels this save.
    await store.save(id, 'failed', { signal }).catch(() => {})
    throw error
  }
}
// #endregion record-bad

// #region record
export async function runJob(
  id: string,
  store: OutcomeStore,
  signal: AbortSignal,
): Promise<void> {
  try {
    await sleep(1000, { signal })
    await store.save(id, 'completed', { signal })
  } catch (error) {
    // The record is cleanup, not the job: give it its own short deadline.
    await store.save(id, 'failed', { signal: AbortSignal.timeout(5000) })
    throw error
  }
}
// #endregion record

export async function main(out: Out): Promise<void> {
  for (const [label, run] of [
    ['bad', runJobBad],
    ['fixed', runJob],
  ] as const) {
    const store = new OutcomeStore()
    const controller = new AbortController()
    const job = run('job-1', store, controller.signal)
    controller.abort(new Error('shutting down'))
    await job.catch((error: Error) => out(`${label}: job ended: ${error.message}`))
    out(`${label}: record: ${store.outcomes.get('job-1') ?? 'none'}`)
  }
}

runIfMain(import.meta.url, main)
