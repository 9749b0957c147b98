/**
 * Two workers claim the one waiting job at the same moment: first with a
 * claim that checks, awaits, then sets; then with the memory store's
 * claim, which has no `await` between its check and its set.
 */
import { MemoryStore } from '../jobs/store/memory.ts'
import { runIfMain, type Out } from './run.ts'

/** Any promise: a log write, a metric, a lookup. Here, nothing at all. */
async function audit(_owner: string, _id: string): Promise<void> {}

// #region racy-claim
/** WRONG: a claim with an `await` between its check and its set. */
export class CheckThenSetStore {
  readonly #jobs = new Map<string, { status: string; owner?: string }>()

  add(id: string): void {
    this.#jobs.set(id, { status: 'pending' })
  }

  async claim(owner: string, id: string): Promise<boolean> {
    const job = this.#jobs.get(id)
    if (job?.status !== 'pending') return false // the check
    await audit(owner, id) // any await: other tasks run here
    job.status = 'processing' // the set
    job.owner = owner
    return true
  }
}
// #endregion racy-claim

const workers = ['worker 1', 'worker 2'] as const

/** Who took the job, as one line. */
function verdict(took: readonly boolean[]): string {
  return workers
    .map((name, i) => `${name} ${took[i] ? 'took it' : 'got none'}`)
    .join(', ')
}

export async function main(out: Out): Promise<void> {
  // #region both-claims
  const racy = new CheckThenSetStore()
  racy.add('job-1')
  const racyTook = await Promise.all(
    workers.map((name) => racy.claim(name, 'job-1')),
  )
  out(`check, await, set: ${verdict(racyTook)}`)

  const store = new MemoryStore()
  await store.create({ type: 'noop' })
  const claims = await Promise.all(
    workers.map((name) => store.claim(name, 1, 60_000)),
  )
  out(`store.claim:       ${verdict(claims.map((c) => c.length === 1))}`)
  // #endregion both-claims
}

runIfMain(import.meta.url, main)
