import { JobEvents } from '../jobs/events.ts'
import { attachLogger, createLogger } from '../jobs/log.ts'
import { runIfMain, type Out } from './run.ts'

// #region main
export async function main(out: Out): Promise<void> {
  const events = new JobEvents()
  // A test or a log shipper passes its own destination; here, `out`.
  const destination = { write: (line: string) => out(line.trimEnd()) }
  const logger = createLogger({ level: 'info', destination })
  const detach = attachLogger(events, logger)

  const job = { job_id: 'a', type: 'sleep' }
  const attempt = { ...job, worker_id: 'worker-1', attempt: 1 }
  events.emit('worker_started', { worker_id: 'worker-1' })
  events.emit('job_created', job)
  events.emit('job_enqueued', job)
  events.emit('job_started', attempt)
  // debug: another worker had the job; not written at info
  events.emit('job_skipped', { job_id: 'b', worker_id: 'worker-1' })
  events.emit('job_failed', {
    ...attempt,
    duration_ms: 12,
    error: 'upstream answered 503',
    final: true,
  })
  events.emit('worker_stopped', { worker_id: 'worker-1' })
  detach()
}
// #endregion main

runIfMain(import.meta.url, main)
