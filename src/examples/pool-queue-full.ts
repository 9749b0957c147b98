/**
 * One busy worker and a queue of two: the fourth job is refused with 429,
 * and nothing of it is kept.
 */
import { loadConfig } from '../config.ts'
import { createService } from '../service.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    WORKER_COUNT: '1',
    JOB_QUEUE_CAPACITY: '2',
    LOG_LEVEL: 'silent',
  })
  const service = createService(config)
  await service.start()
  for (let i = 1; i <= 5; i++) {
    const res = await service.app.request('/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'sleep', payload: { ms: 20 } }),
    })
    const retry = res.headers.get('Retry-After')
    const detail = res.status === 201 ? '' : ` Retry-After: ${retry} ${await res.text()}`
    out(`POST /jobs #${i} → ${res.status}${detail}`)
  }
  out(`jobs in the store: ${(await service.store.list()).length}`)
  await service.stop()
}

runIfMain(import.meta.url, main)
