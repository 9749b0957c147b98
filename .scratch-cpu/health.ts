import { loadConfig } from '../src/config.ts'
import { createService } from '../src/service.ts'
import { defaultHandlers } from '../src/jobs/handlers.ts'
import { blockingHashJob, hashJob } from '../src/jobs/cpu/hash.ts'
import { createCpuPool } from '../src/jobs/cpu/pool.ts'
import { measureLoopDelay } from '../src/jobs/cpu/loop-delay.ts'
import { sleep } from '../src/concurrency/abort.ts'

const pool = createCpuPool({ size: 1 })
const handlers = defaultHandlers().register('hash', hashJob(pool)).register('hash-blocking', blockingHashJob)
const service = createService(loadConfig({ PORT: '0', HOST: '127.0.0.1', WORKER_COUNT: '3' }), { handlers })
const url = await service.start()
await pool.hash(1)
for (const type of ['hash', 'hash', 'hash-blocking', 'hash', 'hash-blocking', 'hash', 'hash-blocking']) {
  const seen = await measureLoopDelay(async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, payload: { rounds: 100_000 } }) })
      ids.push(((await res.json()) as { id: string }).id)
    }
    for (const id of ids) {
      while ((await service.store.get(id))?.status !== 'completed') await sleep(5)
    }
  }, async () => { const r = await fetch(`${url}/health`); await r.text() })
  console.log(type.padEnd(14), `max loop delay ${seen.maxDelayMs.toFixed(1)} ms, slowest GET /health ${seen.slowestProbeMs.toFixed(1)} ms, answered ${seen.probes}`)
}
await service.stop()
await pool.close()
