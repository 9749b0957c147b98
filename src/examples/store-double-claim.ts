/**
 * Two workers claim the same job at the same moment, first with a claim
 * that awaits between its check and its set, then with the store's.
 */
import type { JobStatus } from '../jobs/job.ts'
import { MemoryStore } from '../jobs/memory-store.ts'
import { claim } from '../jobs/store.ts'
import { runIfMain, type Out } from './run.ts'

// #region racy-claim
const statuses = new Map<string, JobStatus>()

/** WRONG: an `await` sits between the check and the set. */
export async function claimWithAwaitBetween(id: string): Promise<boolean> {
  if (statuses.get(id) !== 'pending') return false // check
  await recordAudit(id) // any await: a log write, a metric, a remote call
  statuses.set(id, 'processing') // set: on what may no longer be true
  return true
}

async function recordAudit(_id: string): Promise<void> {
  // Does nothing, yet awaiting it still lets other tasks run first.
}
// #endregion racy-claim

/** Resets the racy example's one job to `pending`. */
export function resetRacyJob(id: string): void {
  statuses.set(id, 'pending')
}

export async function main(out: Out): Promise<void> {
  resetRacyJob('job-1')
  const racy = await Promise.all([
    claimWithAwaitBetween('job-1'),
    claimWithAwaitBetween('job-1'),
  ])
  out(`await between: ${describe(racy)}`)

  const store = new MemoryStore()
  const { id } = await store.create({ type: 'noop' })
  // #region atomic-claim
  const claimed = await Promise.all([claim(store, id), claim(store, id)])
  // #endregion atomic-claim
  out(`store claim:   ${describe(claimed.map((job) => job !== undefined))}`)
}

function describe(wins: boolean[]): string {
  return wins.map((won, i) => `worker ${i + 1} ${won ? 'won' : 'lost'}`).join(', ')
}

runIfMain(import.meta.url, main)
