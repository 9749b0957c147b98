import { JobEvents } from '../jobs/events.ts'
import { createJobMetrics } from '../jobs/metrics.ts'
import { runIfMain, type Out } from './run.ts'

// #region sequence
/**
 * Three jobs on one worker: `a` completes in 40 ms; `b` fails, is
 * retried, and completes; `c` is canceled before it runs.
 */
function replay(events: JobEvents): void {
  const worker_id = 'worker-1'
  for (const job_id of ['a', 'b', 'c']) {
    events.emit('job_created', { job_id, type: 'sleep' })
    events.emit('job_enqueued', { job_id, type: 'sleep' })
  }
  const a = { job_id: 'a', type: 'sleep', worker_id, attempt: 1 }
  events.emit('job_started', a)
  events.emit('job_completed', { ...a, duration_ms: 40 })
  const b1 = { job_id: 'b', type: 'sleep', worker_id, attempt: 1 }
  events.emit('job_started', b1)
  events.emit('job_failed', {
    ...b1,
    duration_ms: 10,
    error: 'upstream answered 503',
    final: false,
  })
  const runAt = '2025-01-01T00:00:01.000Z'
  events.emit('job_retried', { ...b1, run_at: runAt })
  events.emit('job_canceled', { job_id: 'c', type: 'sleep', attempt: 0 })
  const b2 = { ...b1, attempt: 2 }
  events.emit('job_started', b2)
  events.emit('job_completed', { ...b2, duration_ms: 30 })
}
// #endregion sequence

// #region main
export async function main(out: Out): Promise<void> {
  const events = new JobEvents()
  // The queue's depth is read at each scrape; here it says 2.
  const metrics = createJobMetrics(events, { queueDepth: () => 2 })
  replay(events)
  metrics.close()

  out('JSON')
  out(JSON.stringify(await metrics.json(), null, 2))

  out(`Prometheus text (${metrics.contentType})`)
  const text = await metrics.prometheus()
  const wanted = /^(jobs_\w+|queue_depth|job_duration_seconds_(count|sum))\b/
  for (const line of text.split('\n')) {
    if (wanted.test(line)) out(line)
  }
}
// #endregion main

runIfMain(import.meta.url, main)
