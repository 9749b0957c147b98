import { describe, expect, it } from 'vitest'
import { JOB_EVENT_NAMES, JobEvents, jobFields } from '../../src/jobs/events.ts'
import { newJob } from '../../src/jobs/job.ts'
import { main } from '../../src/examples/observability-logs.ts'
import {
  attachLogger,
  createLogger,
  EVENT_LEVELS,
  isLogLevel,
  levelOf,
  type LogLevel,
} from '../../src/jobs/log.ts'

/** A logger whose lines are kept, parsed, in `lines`. */
function captured(level: LogLevel = 'debug') {
  const lines: Array<Record<string, unknown>> = []
  const destination = {
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    },
  }
  return { lines, logger: createLogger({ level, destination }) }
}

const attempt = {
  job_id: 'job-1',
  type: 'sleep',
  worker_id: 'worker-1',
  attempt: 2,
} as const

describe('attachLogger', () => {
  it('logs each event as one line with its fields', () => {
    const events = new JobEvents()
    const { lines, logger } = captured()
    attachLogger(events, logger)
    events.emit('job_completed', { ...attempt, duration_ms: 12 })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      level: 'info',
      event: 'job_completed',
      job_id: 'job-1',
      type: 'sleep',
      worker_id: 'worker-1',
      attempt: 2,
      duration_ms: 12,
      msg: 'job completed',
    })
  })

  it('stamps each line with an RFC 3339 time, and no pid or hostname', () => {
    const events = new JobEvents()
    const { lines, logger } = captured()
    attachLogger(events, logger)
    events.emit('worker_started', { worker_id: 'worker-1' })
    const line = lines[0] ?? {}
    expect(new Date(String(line['time'])).toISOString()).toBe(line['time'])
    expect(line).not.toHaveProperty('pid')
    expect(line).not.toHaveProperty('hostname')
  })

  it("never logs a job's payload: events carry its id and type only", () => {
    const events = new JobEvents()
    const { lines, logger } = captured()
    attachLogger(events, logger)
    const job = newJob(
      { type: 'email', payload: { password: 'hunter2' } },
      'job-9',
      new Date(),
    )
    events.emit('job_created', jobFields(job))
    expect(lines[0]).toMatchObject({ job_id: 'job-9', type: 'email' })
    expect(JSON.stringify(lines)).not.toContain('hunter2')
  })

  it('logs a failure with its message and no stack', () => {
    const events = new JobEvents()
    const { lines, logger } = captured()
    attachLogger(events, logger)
    events.emit('job_failed', {
      ...attempt,
      duration_ms: 5,
      error: 'connection refused',
      final: false,
    })
    expect(lines[0]).toMatchObject({
      level: 'warn',
      event: 'job_failed',
      error: 'connection refused',
      final: false,
    })
    expect(JSON.stringify(lines[0])).not.toContain('stack')
  })

  it('logs a final failure as an error, a retried one as a warning', () => {
    const failed = { ...attempt, duration_ms: 1, error: 'x' }
    expect(levelOf({ event: 'job_failed', ...failed, final: true })).toBe('error')
    expect(levelOf({ event: 'job_failed', ...failed, final: false })).toBe('warn')
  })

  it('logs the normal path at info, what went wrong with an attempt at warn, and what is lost at error', () => {
    const warn = [
      'job_failed',
      'job_timed_out',
      'job_interrupted',
      'job_rescued',
      'job_lease_lost',
      'job_result_discarded',
    ]
    const error = ['job_finish_failed', 'worker_crashed']
    for (const name of JOB_EVENT_NAMES) {
      const expected = warn.includes(name) ? 'warn' : error.includes(name) ? 'error' : 'info'
      expect([name, EVENT_LEVELS[name]]).toEqual([name, expected])
    }
  })

  it('writes only the events at or above the logger level', () => {
    const events = new JobEvents()
    const { lines, logger } = captured('info')
    attachLogger(events, logger)
    events.emit('job_created', { job_id: 'job-1', type: 'sleep' })
    events.emit('worker_started', { worker_id: 'worker-1' })
    events.emit('job_timed_out', { ...attempt, timeout_ms: 100 })
    expect(lines.map((line) => line['event'])).toEqual([
      'job_created',
      'worker_started',
      'job_timed_out',
    ])
  })

  it('logs the events in the order they come', () => {
    const events = new JobEvents()
    const { lines, logger } = captured('debug')
    attachLogger(events, logger)
    events.emit('worker_started', { worker_id: 'w1' })
    events.emit('job_created', { job_id: 'j', type: 't' })
    events.emit('job_started', { ...attempt, job_id: 'j' })
    events.emit('job_released', { job_id: 'k', type: 't', attempt: 1 })
    events.emit('job_canceled', { job_id: 'j', type: 't', attempt: 1 })
    events.emit('worker_stopped', { worker_id: 'w1' })
    expect(lines.map((line) => line['event'])).toEqual([
      'worker_started',
      'job_created',
      'job_started',
      'job_released',
      'job_canceled',
      'worker_stopped',
    ])
  })

  it('stops logging when detached', () => {
    const events = new JobEvents()
    const { lines, logger } = captured()
    const detach = attachLogger(events, logger)
    detach()
    events.emit('worker_started', { worker_id: 'worker-1' })
    expect(lines).toEqual([])
  })
})

describe('LOG_LEVEL', () => {
  it('accepts pino levels and silent, and nothing else', () => {
    expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']
      .every(isLogLevel)).toBe(true)
    expect(isLogLevel('verbose')).toBe(false)
    expect(isLogLevel('INFO')).toBe(false)
  })

  it('silent writes nothing', () => {
    const events = new JobEvents()
    const { lines, logger } = captured('silent')
    attachLogger(events, logger)
    events.emit('job_failed', { ...attempt, duration_ms: 1, error: 'x', final: true })
    expect(lines).toEqual([])
  })
})

describe('the observability-logs example', () => {
  it('shows the real service\'s job_failed line in full, then each job and worker line at its level', async () => {
    const lines: string[] = []
    await main((line) => lines.push(...line.split('\n')))
    const start = lines.indexOf('{')
    const end = lines.indexOf('}')
    expect(JSON.parse(lines.slice(start, end + 1).join('\n'))).toMatchObject({
      level: 'error',
      event: 'job_failed',
      worker_id: 'worker-1',
      attempt: 1,
      final: true,
    })
    expect(lines.slice(end + 2).map((line) => line.split(/ +/))).toEqual([
      ['info', 'worker_started'],
      ['info', 'job_created'],
      ['info', 'job_started'],
      ['error', 'job_failed'],
      ['info', 'worker_stopped'],
    ])
  })
})
