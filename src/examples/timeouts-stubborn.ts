/**
 * Two jobs with a 50 ms timeout on a real service: a `sleep`, whose
 * handler listens to its signal, and a `stubborn` one, whose handler
 * ignores it (a type only this example registers). The first stops at
 * its timeout; the second runs its full 200 ms, its job `processing` and
 * its worker busy all along.
 */
import { Channel } from '../concurrency/channel.ts'
import { loadConfig } from '../config.ts'
import type { JobEvent } from '../jobs/events.ts'
import { defaultHandlers, stubbornJob } from '../jobs/handlers.ts'
import type { Job } from '../jobs/job.ts'
import { createService, type Service } from '../service.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    WORKER_COUNT: '1',
    LOG_LEVEL: 'silent',
    STORE: 'memory',
  })
  const handlers = defaultHandlers().register('stubborn', stubbornJob)
  const service = createService(config, { handlers })
  const events = new Channel<JobEvent>(100)
  service.events.subscribe((event) => void events.trySend(event))
  await service.start()

  // #region two-handlers
  const jobs = [
    ['polite', 'sleep', { ms: 60_000 }],
    ['stubborn', 'stubborn', { ms: 200 }],
  ] as const
  for (const [name, type, payload] of jobs) {
    const id = await submit(service, type, payload)
    for await (const event of events) {
      if (!('job_id' in event) || event.job_id !== id) continue
      if (event.event === 'job_timed_out') {
        out(`${name}: timed out after ${event.timeout_ms} ms`)
      }
      if (event.event === 'job_timed_out' && name === 'stubborn') {
        const { status } = (await service.store.get(id)) as Job
        out(`${name}: its handler runs on; the job is still ${status}`)
      }
      if (event.event === 'job_failed') {
        out(`${name}: failed: ${event.error}`)
      }
      if (event.event === 'job_completed') {
        const ms = event.duration_ms
        out(`${name}: completed; its handler returned after ${ms} ms`)
      }
      const ended = ['job_failed', 'job_completed'].includes(event.event)
      if (ended) break
    }
  }
  // #endregion two-handlers
  await service.stop()
}

async function submit(
  service: Service,
  type: string,
  payload: object,
): Promise<string> {
  const res = await service.app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      type,
      payload,
      timeout_ms: 50,
      max_retries: 0,
    }),
  })
  return ((await res.json()) as Job).id
}

runIfMain(import.meta.url, main)
