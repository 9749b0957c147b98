import { describe, expect, it } from 'vitest'
import { JobEvents } from '../../src/jobs/events.ts'
import { main } from '../../src/examples/observability-metrics.ts'
import { createJobMetrics, type MetricsJson } from '../../src/jobs/metrics.ts'

function attempt(job_id: string, worker_id: string, attempt: number) {
  return { job_id, type: 'sleep', worker_id, attempt }
}

/**
 * Four jobs: `a` completes; `b` fails, is retried, times out and fails for
 * good; `c` is canceled while pending; `d` is still running.
 */
function knownSequence(events: JobEvents): void {
  for (const id of ['a', 'b', 'c', 'd']) {
    events.emit('job_created', { job_id: id, type: 'sleep' })
  }
  events.emit('worker_started', { worker_id: 'w1' })
  events.emit('job_started', attempt('a', 'w1', 1))
  events.emit('job_completed', { ...attempt('a', 'w1', 1), duration_ms: 20 })
  events.emit('job_started', attempt('b', 'w1', 1))
  events.emit('job_failed', {
    ...attempt('b', 'w1', 1),
    duration_ms: 250,
    error: 'boom',
    final: false,
  })
  events.emit('job_retried', {
    job_id: 'b',
    type: 'sleep',
    attempt: 1,
    run_at: '2025-01-01T00:00:01.000Z',
  })
  events.emit('job_canceled', { job_id: 'c', type: 'sleep', attempt: 0 })
  events.emit('job_started', attempt('b', 'w1', 2))
  events.emit('job_timed_out', { ...attempt('b', 'w1', 2), timeout_ms: 500 })
  events.emit('job_failed', {
    ...attempt('b', 'w1', 2),
    duration_ms: 500,
    error: 'timed out after 500 ms',
    final: true,
  })
  events.emit('job_started', attempt('d', 'w1', 1))
}

describe('createJobMetrics', () => {
  it('counts a known sequence of events into the JSON of GET /metrics', async () => {
    const events = new JobEvents()
    const metrics = createJobMetrics(events, { countByStatus: async () => ({ pending: 2, retrying: 1, processing: 1 }) })
    knownSequence(events)
    expect(await metrics.json()).toEqual({
      jobs_created: 4,
      jobs_completed: 1,
      jobs_failed: 1,
      jobs_retried: 1,
      jobs_canceled: 1,
      jobs_timed_out: 1,
      jobs_rescued: 0,
      jobs_in_progress: 1,
      queue_depth: 3,
      queue: { pending: 2, retrying: 1, processing: 1 },
    } satisfies MetricsJson)
  })

  it('counts jobs, not attempts: created = ended + running once none wait', async () => {
    const events = new JobEvents()
    const metrics = createJobMetrics(events)
    knownSequence(events)
    const m = await metrics.json()
    const ended = m.jobs_completed + m.jobs_failed + m.jobs_canceled
    expect(m.jobs_created).toBe(ended + m.jobs_in_progress)
  })

  it('writes the same numbers in Prometheus text format', async () => {
    const events = new JobEvents()
    const metrics = createJobMetrics(events, { countByStatus: async () => ({ pending: 2, retrying: 1, processing: 1 }) })
    knownSequence(events)
    const lines = (await metrics.prometheus()).split('\n')
    expect(lines).toContain('# TYPE jobs_created_total counter')
    expect(lines).toContain('jobs_created_total 4')
    expect(lines).toContain('jobs_failed_total 1')
    expect(lines).toContain('jobs_in_progress 1')
    expect(lines).toContain('jobs_queued{status="pending"} 2')
    expect(lines).toContain('# TYPE job_duration_seconds histogram')
    expect(lines).toContain('job_duration_seconds_count{outcome="failed"} 2')
    expect(lines).toContain('job_duration_seconds_sum{outcome="failed"} 0.75')
    expect(lines).toContain(
      'job_duration_seconds_bucket{le="0.025",outcome="completed"} 1',
    )
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/)
  })

  it('reads the queue from the store when asked, not when events come', async () => {
    const events = new JobEvents()
    let pending = 0
    const metrics = createJobMetrics(events, { countByStatus: async () => ({ pending }) })
    expect((await metrics.json()).queue_depth).toBe(0)
    pending = 7
    expect((await metrics.json()).queue_depth).toBe(7)
  })

  it('keeps each service apart: its own registry, its own numbers', async () => {
    const first = new JobEvents()
    const second = new JobEvents()
    const a = createJobMetrics(first)
    const b = createJobMetrics(second)
    first.emit('job_created', { job_id: 'x', type: 'sleep' })
    expect((await a.json()).jobs_created).toBe(1)
    expect((await b.json()).jobs_created).toBe(0)
    expect(a.registry).not.toBe(b.registry)
  })

  it('counts a running job once, however its end is reported', async () => {
    const events = new JobEvents()
    const metrics = createJobMetrics(events)
    events.emit('job_started', attempt('a', 'w1', 1))
    events.emit('job_canceled', {
      job_id: 'a',
      type: 'sleep',
      attempt: 1,
      worker_id: 'w1',
      duration_ms: 3,
    })
    events.emit('job_completed', { ...attempt('a', 'w1', 1), duration_ms: 3 })
    events.emit('job_canceled', { job_id: 'z', type: 'sleep', attempt: 0 })
    expect((await metrics.json()).jobs_in_progress).toBe(0)
  })

  it('stops counting once closed, and keeps what it counted', async () => {
    const events = new JobEvents()
    const metrics = createJobMetrics(events)
    events.emit('job_created', { job_id: 'a', type: 'sleep' })
    metrics.close()
    events.emit('job_created', { job_id: 'b', type: 'sleep' })
    expect((await metrics.json()).jobs_created).toBe(1)
    expect(events.listenerCount).toBe(0)
  })
})

describe('the observability-metrics example', () => {
  it('prints the real service\'s counts of its four jobs as JSON, then the same in Prometheus text', async () => {
    const lines: string[] = []
    await main((line) => lines.push(...line.split('\n')))
    expect(lines[0]).toBe('GET /metrics')
    const end = lines.indexOf('}')
    expect(JSON.parse(lines.slice(1, end + 1).join('\n'))).toMatchObject({
      jobs_created: 4,
      jobs_completed: 2,
      jobs_failed: 0,
      jobs_retried: 1,
      jobs_canceled: 2,
      jobs_in_progress: 0,
      queue_depth: 0,
    })
    expect(lines).toContain('jobs_created_total 4')
    expect(lines).toContain('jobs_queued{status="canceled"} 2')
    expect(lines).toContain('job_duration_seconds_count{outcome="completed"} 2')
  })
})
