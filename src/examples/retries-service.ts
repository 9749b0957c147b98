/**
 * A real service runs a `fail` job that fails its first two attempts: the
 * worker schedules each retry, the sweeper puts it back on the queue, the
 * third attempt completes. Short delays, so that it runs in a blink.
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
    RETRY_BASE_MS: '20',
    RETRY_MAX_MS: '40',
    SWEEPER_INTERVAL: '10ms',
    LOG_LEVEL: 'silent',
  })
  const service = createService(config)
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

  for await (const event of events) {
    out(describe(event))
    if (event.event === 'job_completed') break
  }
  const job = (await service.store.get(id)) as Job
  out(`status ${job.status}, attempts ${job.attempts}`)
  out(`last_error: ${job.last_error}`)
  await service.stop()
}

function describe(event: JobEvent): string {
  switch (event.event) {
    case 'job_started':
    case 'job_completed':
      return `${event.event} attempt ${event.attempt}`
    case 'job_failed':
      return `job_failed attempt ${event.attempt}: ${event.error}`
    case 'job_retried':
      return `job_retried: retrying until run_at`
    default:
      return event.event
  }
}

runIfMain(import.meta.url, main)
