/**
 * Two `sleep` jobs with a 50 ms timeout on a real service: one that
 * listens to its signal, and one that ignores it (`ignore_signal`). The
 * first stops at its timeout; the second runs its full 200 ms, its job
 * `processing` and its worker busy all along.
 */
import { Channel } from '../concurrency/channel.ts'
import { loadConfig } from '../config.ts'
import type { JobEvent } from '../jobs/events.ts'
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
  const service = createService(config)
  const events = new Channel<JobEvent>(100)
  service.events.subscribe((event) => void events.trySend(event))
  await service.start()

  // #region two-handlers
  const polite = { ms: 60_000 }
  const stubborn = { ms: 200, ignore_signal: true }
  const jobs = [['polite', polite], ['stubborn', stubborn]] as const
  for (const [name, payload] of jobs) {
    const id = await submit(service, payload)
    for await (const event of events) {
      if (!('job_id' in event) || event.job_id !== id) continue
      if (event.event === 'job_timed_out') {
        out(`${name}: timed out after ${event.timeout_ms} ms`)
      }
      if (event.event === 'job_timed_out' && name === 'stubborn') {
        const { status } = (await service.store.get(id)) as Job
        out(`${name}: its handler runs on; the job is still ${status}`)
      }
      if (event.event === 'job_failed') out(`${name}: failed: ${event.error}`)
      if (event.event === 'job_completed') {
        const ms = event.duration_ms
        out(`${name}: completed; its handler returned after ${ms} ms`)
      }
      if (event.event === 'job_failed' || event.event === 'job_completed') break
    }
  }
  // #endregion two-handlers
  await service.stop()
}

async function submit(service: Service, payload: object): Promise<string> {
  const res = await service.app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      type: 'sleep',
      payload,
      timeout_ms: 50,
      max_retries: 0,
    }),
  })
  return ((await res.json()) as Job).id
}

runIfMain(import.meta.url, main)
