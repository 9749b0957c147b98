/**
 * The service's metrics, fed by the job events (so no HTTP handler or
 * worker updates a counter itself), kept in a prom-client `Registry` of
 * their own: one per service, never the library's global one, so that two
 * services (in tests, say) never share a number. Read them two ways: the
 * JSON of `GET /metrics`, or Prometheus' text format for a scraper.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { JobEvents } from './events.ts'

// #region json
/**
 * The JSON `GET /metrics` answers: the counters since the service
 * started, then two values of now. Each counter counts jobs, not
 * attempts, so that once nothing runs or waits,
 * `jobs_created = jobs_completed + jobs_failed + jobs_canceled`.
 */
export interface MetricsJson {
  /** Jobs stored. */
  readonly jobs_created: number
  /** Jobs whose handler succeeded. */
  readonly jobs_completed: number
  /** Jobs that failed for good (their last attempt, no retry left). */
  readonly jobs_failed: number
  /** Retries scheduled: failed attempts that will run again. */
  readonly jobs_retried: number
  /** Jobs canceled, pending or running. */
  readonly jobs_canceled: number
  /** Attempts that ran out of time (each also a failed attempt). */
  readonly jobs_timed_out: number
  /** Jobs given back after their lease expired (their worker vanished). */
  readonly jobs_rescued: number
  /** Jobs a worker of this instance is running now. */
  readonly jobs_in_progress: number
  /** Jobs waiting to run (pending or retrying), in the whole queue. */
  readonly queue_depth: number
  /** Every job the store holds, by status (all instances'). */
  readonly queue: Readonly<Record<string, number>>
}
// #endregion json

/** Options of {@link createJobMetrics}. */
export interface JobMetricsOptions {
  /** The store's jobs by status, read at each scrape. */
  readonly countByStatus?: () => Promise<Readonly<Record<string, number>>>
}

/** The job metrics of one service; `close()` stops listening. */
export interface JobMetrics {
  /** This service's registry: add more metrics to it, scrape it. */
  readonly registry: Registry
  /** The JSON of `GET /metrics`. */
  json(): Promise<MetricsJson>
  /** Every metric in Prometheus' text format (see `contentType`). */
  prometheus(): Promise<string>
  /** The `Content-Type` of `prometheus()`'s text. */
  readonly contentType: string
  /** Unsubscribes from the events; the numbers stay readable. */
  close(): void
}

/**
 * Job durations' histogram buckets, in seconds: from 5 ms to a minute
 * (the longest `sleep` job).
 */
export const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const

/**
 * Metrics fed by `events`, in a new registry. Prometheus names: the
 * counters end in `_total` (`jobs_created_total`...), the gauges are
 * `jobs_in_progress` and `jobs_queued{status}` (read from the store), and
 * `job_duration_seconds`, a histogram labelled with each attempt's
 * `outcome` (`completed`, `failed`, `canceled`, `interrupted`). No process metrics: add prom-client's
 * `collectDefaultMetrics({ register: metrics.registry })` if you want
 * them.
 */
export function createJobMetrics(
  events: JobEvents,
  options: JobMetricsOptions = {},
): JobMetrics {
  const { countByStatus = async () => ({}) } = options
  const registry = new Registry()
  const registers = [registry]
  const counter = (name: string, help: string) =>
    new Counter({ name: `${name}_total`, help, registers })

  const created = counter('jobs_created', 'Jobs stored.')
  const completed = counter('jobs_completed', 'Jobs whose handler succeeded.')
  const failed = counter('jobs_failed', 'Jobs that failed for good.')
  const retried = counter('jobs_retried', 'Failed attempts to run again.')
  const canceled = counter('jobs_canceled', 'Jobs canceled.')
  const timedOut = counter('jobs_timed_out', 'Attempts that ran out of time.')
  const rescued = counter('jobs_rescued', 'Jobs whose lease expired, given back.')
  // The jobs whose attempt has started and not ended, by id: an end
  // reported twice, or for a job that never started, changes nothing.
  const running = new Set<string>()
  const inProgress = new Gauge({
    name: 'jobs_in_progress',
    help: 'Jobs a worker is running now.',
    registers,
    collect() {
      this.set(running.size)
    },
  })
  // Read from the store at each scrape: the queue is every instance's.
  let byStatus: Readonly<Record<string, number>> = {}
  const queue = new Gauge({
    name: 'jobs_queued',
    help: 'Jobs the store holds, by status.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      byStatus = await countByStatus()
      for (const [status, n] of Object.entries(byStatus)) {
        this.set({ status }, n)
      }
    },
  })
  const duration = new Histogram({
    name: 'job_duration_seconds',
    help: 'How long attempts ran, by how they ended.',
    labelNames: ['outcome'] as const,
    buckets: [...DURATION_BUCKETS],
    registers,
  })
  const observe = (outcome: string, ms: number | undefined): void => {
    if (ms !== undefined) duration.observe({ outcome }, ms / 1000)
  }

  // #region count
  const unsubscribe = events.subscribe((event) => {
    switch (event.event) {
      case 'job_created':
        return created.inc()
      case 'job_started':
        running.add(event.job_id)
        return
      case 'job_completed':
        running.delete(event.job_id)
        completed.inc()
        return observe('completed', event.duration_ms)
      case 'job_failed':
        running.delete(event.job_id)
        if (event.final) failed.inc()
        return observe('failed', event.duration_ms)
      case 'job_retried':
        return retried.inc()
      case 'job_canceled':
        running.delete(event.job_id)
        canceled.inc()
        return observe('canceled', event.duration_ms) // if it ran
      // #endregion count
      case 'job_timed_out':
        return timedOut.inc()
      case 'job_interrupted':
        running.delete(event.job_id)
        return observe('interrupted', event.duration_ms)
      case 'job_result_discarded':
      case 'job_finish_failed':
        return running.delete(event.job_id)
      case 'job_rescued':
        return rescued.inc()
    }
  })

  const queueJson = async () => {
    await queue.get() // runs collect(): reads the store once
    const waiting = (byStatus['pending'] ?? 0) + (byStatus['retrying'] ?? 0)
    return { queue_depth: waiting, queue: byStatus }
  }

  const valueOf = async (metric: Counter | Gauge): Promise<number> =>
    (await metric.get()).values[0]?.value ?? 0

  return {
    registry,
    async json() {
      return {
        jobs_created: await valueOf(created),
        jobs_completed: await valueOf(completed),
        jobs_failed: await valueOf(failed),
        jobs_retried: await valueOf(retried),
        jobs_canceled: await valueOf(canceled),
        jobs_timed_out: await valueOf(timedOut),
        jobs_rescued: await valueOf(rescued),
        jobs_in_progress: await valueOf(inProgress),
        ...(await queueJson()),
      }
    },
    prometheus: () => registry.metrics(),
    contentType: registry.contentType,
    close: unsubscribe,
  }
}
