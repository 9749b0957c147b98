import { describe, expect, it, vi } from 'vitest'
import {
  JOB_EVENT_NAMES,
  JobEvents,
  type JobEvent,
} from '../../src/jobs/events.ts'

const started = {
  job_id: 'job-1',
  type: 'sleep',
  worker_id: 'worker-1',
  attempt: 1,
} as const

// A bus whose listener errors are kept, not printed.
function busWithErrors(): { events: JobEvents; errors: unknown[] } {
  const errors: unknown[] = []
  const events = new JobEvents({ onListenerError: (error) => errors.push(error) })
  return { events, errors }
}

describe('JobEvents', () => {
  it('gives subscribers every event, with its name in `event`', () => {
    const events = new JobEvents()
    const seen: JobEvent[] = []
    events.subscribe((event) => seen.push(event))
    events.emit('worker_started', { worker_id: 'worker-1' })
    events.emit('job_started', started)
    expect(seen).toEqual([
      { event: 'worker_started', worker_id: 'worker-1' },
      { event: 'job_started', ...started },
    ])
  })

  it('gives `on` listeners only the events of their name', () => {
    const events = new JobEvents()
    const attempts: number[] = []
    events.on('job_started', (event) => attempts.push(event.attempt))
    events.emit('worker_started', { worker_id: 'worker-1' })
    events.emit('job_started', started)
    expect(attempts).toEqual([1])
  })

  it('calls listeners in the order they subscribed, inside emit', () => {
    const events = new JobEvents()
    const order: string[] = []
    events.subscribe(() => order.push('first'))
    events.on('job_created', () => order.push('second'))
    events.subscribe(() => order.push('third'))
    events.emit('job_created', { job_id: 'job-1', type: 'sleep' })
    order.push('after emit')
    expect(order).toEqual(['first', 'second', 'third', 'after emit'])
  })

  it('hands every listener the same frozen event', () => {
    const events = new JobEvents()
    const seen: JobEvent[] = []
    events.subscribe((event) => seen.push(event))
    events.subscribe((event) => seen.push(event))
    events.emit('job_created', { job_id: 'job-1', type: 'sleep' })
    expect(seen[0]).toBe(seen[1])
    expect(Object.isFrozen(seen[0])).toBe(true)
  })

  it('stops calling a listener once it unsubscribes, even twice', () => {
    const events = new JobEvents()
    const seen: string[] = []
    const leave = events.subscribe((event) => seen.push(event.event))
    events.emit('worker_started', { worker_id: 'worker-1' })
    leave()
    leave()
    events.emit('worker_stopped', { worker_id: 'worker-1' })
    expect(seen).toEqual(['worker_started'])
    expect(events.listenerCount).toBe(0)
  })

  it('calls a function subscribed twice twice, and each leaves alone', () => {
    const events = new JobEvents()
    let calls = 0
    const count = (): void => {
      calls++
    }
    const leaveFirst = events.subscribe(count)
    events.subscribe(count)
    leaveFirst()
    events.emit('worker_started', { worker_id: 'worker-1' })
    expect(calls).toBe(1)
  })

  it('does not call, in this emit, a listener subscribed during it', () => {
    const events = new JobEvents()
    const seen: string[] = []
    events.subscribe(() => {
      events.subscribe((event) => seen.push(event.event))
    })
    events.emit('worker_started', { worker_id: 'worker-1' })
    expect(seen).toEqual([])
    events.emit('worker_stopped', { worker_id: 'worker-1' })
    expect(seen).toEqual(['worker_stopped'])
  })

  it('lists every event name once', () => {
    expect(new Set(JOB_EVENT_NAMES).size).toBe(JOB_EVENT_NAMES.length)
    expect(JOB_EVENT_NAMES).toContain('job_timed_out')
  })
})

describe('a listener that fails', () => {
  it('does not make emit throw, and the next listeners still run', () => {
    const { events, errors } = busWithErrors()
    const boom = new Error('metrics are broken')
    const seen: string[] = []
    events.subscribe(() => {
      throw boom
    })
    events.subscribe((event) => seen.push(event.event))
    expect(() =>
      events.emit('job_created', { job_id: 'job-1', type: 'sleep' }),
    ).not.toThrow()
    expect(seen).toEqual(['job_created'])
    expect(errors).toEqual([boom])
  })

  it('is reported with the event it failed on', () => {
    const reports: Array<[unknown, JobEvent]> = []
    const events = new JobEvents({
      onListenerError: (error, event) => reports.push([error, event]),
    })
    events.on('worker_stopped', () => {
      throw new Error('no')
    })
    events.emit('worker_stopped', { worker_id: 'worker-2' })
    expect(reports).toHaveLength(1)
    expect(reports[0]?.[1]).toEqual({
      event: 'worker_stopped',
      worker_id: 'worker-2',
    })
  })

  it('is reported when it returns a promise that rejects', async () => {
    const { events, errors } = busWithErrors()
    const boom = new Error('async listener failed')
    let failed!: Promise<never>
    events.subscribe(() => {
      failed = Promise.reject(boom)
      return failed
    })
    events.emit('job_created', { job_id: 'job-1', type: 'sleep' })
    await failed.catch(() => {})
    await Promise.resolve() // the bus's handler runs one turn later
    expect(errors).toEqual([boom])
  })

  it('does not make emit throw even when reporting it fails', () => {
    const events = new JobEvents({
      onListenerError: () => {
        throw new Error('the reporter failed too')
      },
    })
    events.subscribe(() => {
      throw new Error('listener failed')
    })
    expect(() =>
      events.emit('worker_started', { worker_id: 'worker-1' }),
    ).not.toThrow()
  })

  it('is a process warning by default', () => {
    const events = new JobEvents()
    events.subscribe(() => {
      throw new Error('broken listener')
    })
    const emitWarning = vi
      .spyOn(process, 'emitWarning')
      .mockImplementation(() => {})
    try {
      events.emit('job_created', { job_id: 'job-1', type: 'sleep' })
      expect(emitWarning).toHaveBeenCalledWith(
        'a listener of job_created threw: broken listener',
        'JobEventListenerWarning',
      )
    } finally {
      emitWarning.mockRestore()
    }
  })
})
