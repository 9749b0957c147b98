/**
 * The real service's metrics (memory store, one worker) after a known
 * sequence of four jobs, in both formats `GET /metrics` answers.
 */
import { Channel } from '../concurrency/channel.ts'
import { loadConfig } from '../config.ts'
import type { JobEvent, JobEventName } from '../jobs/events.ts'
import type { Job } from '../jobs/job.ts'
import { createLogger } from '../jobs/log.ts'
import { createService, type Service } from '../service.ts'
import { runIfMain, type Out } from './run.ts'

async function post(service: Service, body: unknown): Promise<string> {
  const res = await service.app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  return ((await res.json()) as Job).id
}

export async function main(out: Out): Promise<void> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    WORKER_COUNT: '1',
    RETRY_BASE_MS: '10',
    RETRY_MAX_MS: '10',
    POLL_INTERVAL: '10ms',
    STORE: 'memory',
  })
  const logger = createLogger({ level: 'silent' })
  const service = createService(config, { logger })
  const seen = new Channel<JobEvent>(1_000)
  service.events.subscribe((event) => void seen.trySend(event))
  const next = async (name: JobEventName, id?: string) => {
    for await (const event of seen) {
      const ok = id === undefined || ('job_id' in event && event.job_id === id)
      if (event.event === name && ok) return
    }
  }
  await service.start()

  // #region sequence
  await post(service, { type: 'sleep', payload: { ms: 0 } })
  await next('job_completed') // 1: completes
  await post(service, { type: 'fail', payload: { times: 1 } })
  await next('job_completed') // 2: fails once, is retried, completes
  const long = await post(service, { type: 'sleep', payload: { ms: 60_000 } })
  await next('job_started') // 3: runs, and is canceled while it runs
  const waits = await post(service, { type: 'sleep', payload: { ms: 0 } })
  const cancel = { method: 'POST' } // 4: canceled before it runs
  await service.app.request(`/jobs/${waits}/cancel`, cancel)
  await service.app.request(`/jobs/${long}/cancel`, cancel)
  await next('job_canceled', long) // once its handler has returned
  // #endregion sequence

  // #region read
  out('GET /metrics')
  const json = await (await service.app.request('/metrics')).json()
  out(JSON.stringify(json, null, 2))
  const res = await service.app.request('/metrics?format=prometheus')
  out(`GET /metrics?format=prometheus (${res.headers.get('Content-Type')})`)
  const shown = /^(jobs_\w+(\{[^}]*\})? |job_duration_seconds_count)/
  for (const line of (await res.text()).split('\n')) {
    if (shown.test(line)) out(line)
  }
  // #endregion read
  await service.stop()
}

runIfMain(import.meta.url, main)
