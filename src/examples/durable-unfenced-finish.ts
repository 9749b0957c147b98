/**
 * A stale attempt's late result, written two ways. Worker A claims a job
 * and stalls; its lease expires, the rescuer gives the job back, and
 * worker B claims it: attempt 2. Then A wakes up and writes its result,
 * and B finishes. Once with a finish that checks only that the job is
 * running, once with the store's finish, fenced by the lease.
 */
import type { Lease, Outcome } from '../jobs/store/contract.ts'
import { MemoryStore, type MemoryStoreOptions } from '../jobs/store/memory.ts'
import { runIfMain, type Out } from './run.ts'

// #region unfenced
/**
 * WRONG: a finish that checks that the job is still running, not that
 * this attempt still holds it. In SQL: `UPDATE jobs SET status = $2
 * WHERE id = $1 AND status = 'processing'`.
 */
export class StatusCheckedStore extends MemoryStore {
  readonly #holder = new Map<string, Lease>()

  override async finish(lease: Lease, outcome: Outcome) {
    // It names the job, nothing more: whoever holds it now is "us".
    return super.finish(this.#holder.get(lease.id) ?? lease, outcome)
  }

  // (What "whoever holds it now" needs: the newest lease of each job.)
  override async claim(...args: Parameters<MemoryStore['claim']>) {
    const claimed = await super.claim(...args)
    for (const { lease } of claimed) this.#holder.set(lease.id, lease)
    return claimed
  }
}
// #endregion unfenced

const LEASE_MS = 30_000

/** What each write did, and the job as it ends. */
export interface Story {
  readonly staleWritten: boolean
  readonly newWritten: boolean
  readonly status: string | undefined
  readonly attempts: number | undefined
}

// #region story
/** A stalls past its lease; B runs attempt 2; then both write. */
export async function story(
  makeStore: (options: MemoryStoreOptions) => MemoryStore,
): Promise<Story> {
  let now = Date.parse('2030-01-01T00:00:00Z')
  const store = makeStore({ now: () => new Date(now) })
  const { job } = await store.create({ type: 'email' })
  const [a] = await store.claim('worker-A', 1, LEASE_MS)
  now += LEASE_MS + 1 // A stalls: no heartbeat renews its lease
  await store.rescue({ baseMs: 0, maxMs: 0 }) // given back
  const [b] = await store.claim('worker-B', 1, LEASE_MS) // attempt 2
  const late: Outcome = { kind: 'failed', error: 'SMTP timeout' }
  const stale = await store.finish(a!.lease, late) // A wakes up
  const fresh = await store.finish(b!.lease, { kind: 'completed' })
  const end = await store.get(job.id)
  return {
    staleWritten: stale !== undefined,
    newWritten: fresh !== undefined,
    status: end?.status,
    attempts: end?.attempts,
  }
}
// #endregion story

function line(name: string, { staleWritten, newWritten, status }: Story) {
  const said = (written: boolean) => (written ? 'written' : 'refused')
  return (
    `${name} A's late "failed" ${said(staleWritten)}, ` +
    `B's "completed" ${said(newWritten)}: ${status}`
  )
}

export async function main(out: Out): Promise<void> {
  out(line('status only:', await story((o) => new StatusCheckedStore(o))))
  out(line('fenced:     ', await story((o) => new MemoryStore(o))))
}

runIfMain(import.meta.url, main)
