/**
 * Memory per queued job: submits `n` jobs the way `POST /jobs` does (into
 * the memory store, where a job waits until a worker claims it) with no
 * worker running, and prints the heap they hold, in bytes per job.
 *
 *   node --expose-gc queued-jobs.js <n>
 */
import { defaultHandlers } from '../../src/jobs/handlers.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'
import { submitJob } from '../../src/jobs/submit.ts'
import { heapAfterGc } from './memory.ts'

const n = Number(process.argv[2] ?? 100_000)

const store = new MemoryStore({ budgetBytes: Number.MAX_SAFE_INTEGER })
const handlers = defaultHandlers()
// The first job warms up what every job shares (code, shapes, caches).
await submitJob({ store, handlers }, { type: 'sleep', payload: { ms: 100 } })
const before = heapAfterGc()
for (let i = 1; i < n; i++) {
  await submitJob({ store, handlers }, { type: 'sleep', payload: { ms: 100 } })
}
const after = heapAfterGc()
if (store.size !== n || store.unfinished !== n) throw new Error('jobs missing')
console.log(JSON.stringify({ bytesPerJob: (after - before) / (n - 1), n }))
