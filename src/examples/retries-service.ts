/**
 * A real service (memory store) runs a `fail` job that fails its first
 * two attempts: the worker schedules each retry in the store, the fetcher
 * claims it again once its `run_at` has come, the third attempt
 * completes. Short delays, so that it runs in a blink; jitter at its
 * most, so that each delay is its ceiling.
 */
import { Channel } from '../concurrency/channel.ts'
import { loadConfig } from '../config.ts'
import type { JobEvent } from '../jobs/events.ts'
import type { Job } from '../jobs/job.ts'
import { createService } from '../service.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  // #region retry-run
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    WORKER_COUNT: '1',
    RETRY_BASE_MS: '200',
    RETRY_MAX_MS: '400',
    POLL_INTERVAL: '50ms',
    LOG_LEVEL: 'silent',
    STORE: 'memory',
  })
  const service = createService(config, { random: () => 1 })
  const events = new Channel<JobEvent>(100)
  service.events.subscribe((event) => void events.trySend(event))
  await service.start()
  const res = await service.app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'fail', payload: { times: 2 } }),
  })
  const { id } = (await res.json()) as Job
  // #endregion retry-run

  let runAt = 0
  for await (const event of events) {
    if (event.event === 'job_retried') runAt = Date.parse(event.run_at)
    out(describe(event, runAt))
    if (event.event === 'job_completed') break
  }
  const job = (await service.store.get(id)) as Job
  out(`status ${job.status}, attempts ${job.attempts}`)
  out(`last_error: ${job.last_error}`)
  await service.stop()
}

function describe(event: JobEvent, runAt: number): string {
  const now = Date.now()
  switch (event.event) {
    case 'job_started':
      if (event.attempt === 1) return 'job_started attempt 1'
      return (
        `job_started attempt ${event.attempt}, ` +
        `${now - runAt} ms after its run_at`
      )
    case 'job_completed':
      return `job_completed attempt ${event.attempt}`
    case 'job_failed':
      return `job_failed attempt ${event.attempt}: ${event.error}`
    case 'job_retried':
      return `job_retried: retrying, run_at in ${runAt - now} ms`
    default:
      return event.event
  }
}

runIfMain(import.meta.url, main)
