/**
 * A backlog of two, and no worker to shorten it: the third job is refused
 * with 429, and nothing of it is kept.
 */
import { createApp } from '../http/app.ts'
import { Backlog } from '../jobs/backlog.ts'
import { defaultHandlers } from '../jobs/handlers.ts'
import { RunningJobs } from '../jobs/running.ts'
import { MemoryStore } from '../jobs/store/memory.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  const store = new MemoryStore()
  // #region full
  const backlog = new Backlog({ store, capacity: 2 }) // JOB_QUEUE_CAPACITY
  const app = createApp({
    store,
    handlers: defaultHandlers(),
    running: new RunningJobs(),
    backlog,
  })
  let refusal = ''
  for (let i = 1; i <= 4; i++) {
    const res = await app.request('/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'sleep', payload: { ms: 20 } }),
    })
    const retry = res.headers.get('Retry-After')
    if (res.status !== 201) refusal = await res.text()
    const more = res.status === 201 ? '' : `, Retry-After: ${retry}`
    out(`POST /jobs #${i} → ${res.status}${more}`)
  }
  out(`the 429's body: ${refusal}`)
  // #endregion full
  const { jobs } = await store.list({ limit: 10 })
  out(`jobs in the store: ${jobs.length}`)
}

runIfMain(import.meta.url, main)
