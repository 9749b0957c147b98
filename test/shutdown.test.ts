import { once } from 'node:events'
import { Agent, createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setImmediate as turn } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Channel } from '../src/concurrency/channel.ts'
import { spawn } from '../src/concurrency/task.ts'
import {
  closeQueueFirst,
  startProducer,
} from '../src/examples/shutdown-wrong-order.ts'
import {
  closeServer,
  ShutdownDeadlineError,
  stopParts,
  stopTask,
  type Part,
  type ShutdownServer,
  type StopOptions,
} from '../src/shutdown.ts'
import { deferred } from './jobs/support.ts'

/** A server whose requests in flight end when the test says. */
class FakeServer implements ShutdownServer {
  #closed: (() => void) | undefined
  #inFlight: number

  constructor(
    readonly calls: string[],
    readonly connections: number,
    inFlight = 0,
  ) {
    this.#inFlight = inFlight
  }

  getConnections(callback: (error: Error | null, count: number) => void) {
    queueMicrotask(() => callback(null, this.connections))
  }

  close(callback?: () => void) {
    this.calls.push('server.close')
    this.#closed = callback
    this.#maybeClosed()
  }

  closeIdleConnections() {
    this.calls.push('server.closeIdleConnections')
  }

  closeAllConnections() {
    this.calls.push('server.closeAllConnections')
    this.#inFlight = 0
    this.#maybeClosed()
  }

  /** One request in flight gets its answer. */
  answer() {
    this.#inFlight -= 1
    this.#maybeClosed()
  }

  #maybeClosed() {
    if (this.#inFlight === 0) this.#closed?.()
  }
}

/**
 * A service's parts, faked, in the service's start order, each recording
 * what is done to it in `calls`. The worker holds one job until the test
 * ends it, or until the deadline aborts it.
 */
function fakeService(options: { connections?: number; inFlight?: number; job?: 'heeds' | 'ignores' } = {}) {
  const calls: string[] = []
  const server = new FakeServer(calls, options.connections ?? 0, options.inFlight)
  const queue = new Channel<string>(1)
  const producer = startProducer(queue, ['a', 'b', 'c']) // waits on a full queue
  const job = deferred()
  const jobEnded = job.promise.then(
    () => calls.push('job ended'),
    (reason: unknown) => calls.push(`job aborted: ${(reason as Error).name}`),
  )
  let abortJob: (reason: unknown) => void = () => {}
  const parts: Part[] = [
    { name: 'store', phase: 'close_store', stop: () => void calls.push('store.close') },
    {
      name: 'workers',
      phase: 'finish_jobs',
      async stop(context) {
        calls.push('workers wait')
        const onAbort = () => abortJob(context.deadline.reason)
        if (options.job !== 'ignores') {
          abortJob = (reason) => job.reject(reason)
          context.deadline.addEventListener('abort', onAbort, { once: true })
        }
        await jobEnded
        context.deadline.removeEventListener('abort', onAbort)
      },
    },
    { name: 'queue', phase: 'close_queue', stop: () => void (calls.push('queue.close'), queue.close()) },
    {
      name: 'producer',
      phase: 'stop_producers',
      async stop(context) {
        calls.push('producer.stop')
        await stopTask(producer, context.graceMs)
      },
    },
    {
      name: 'http',
      phase: 'stop_http',
      async stop(context) {
        context.report.connections_closed = await closeServer(server, context.deadline)
      },
    },
    { name: 'intake', phase: 'refuse_new_work', stop: () => void calls.push('refuse') },
  ]
  const logs: { event: string; [field: string]: unknown }[] = []
  const settings: StopOptions = {
    timeoutMs: 10_000,
    graceMs: 1_000,
    log: (event, fields) => logs.push({ event, ...fields }),
  }
  return { parts, settings, calls, logs, server, queue, job }
}

/** Whether `promise` has settled, after letting every ready task run. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  promise.then(
    () => (settled = true),
    () => (settled = true),
  )
  await turn()
  return settled
}

afterEach(() => {
  vi.useRealTimers()
})

describe('stopParts', () => {
  it('testing-fakes-phase-order: with every part faked, the stop is seen to stop producers first, then close the queue, then let the workers finish, then close resources', async () => {
    const { parts, settings, calls, job } = fakeService()
    const stopping = stopParts(parts, settings)
    await turn()
    job.resolve()
    const report = await stopping
    expect(calls.filter((c) => !c.startsWith('server.'))).toEqual([
      'refuse',
      'producer.stop',
      'queue.close',
      'workers wait',
      'job ended',
      'store.close',
    ])
    expect(report.phases.map((p) => p.name)).toEqual([
      'refuse_new_work',
      'stop_http',
      'stop_producers',
      'close_queue',
      'finish_jobs',
      'close_store',
    ])
    expect(report.exit_code).toBe(0)
  })

  it('shutdown-one-list: the stop walks the start list backwards, so reordering the list reorders the stop', async () => {
    const names = (parts: Part[]) => parts.map((part) => part.phase)
    const { parts, settings, job } = fakeService()
    job.resolve()
    const report = await stopParts(parts, settings)
    expect(report.phases.map((p) => p.name)).toEqual(names(parts).reverse())
  })

  it('shutdown-phases-logged: each phase is logged as it starts and as it ends, with its duration', async () => {
    const { parts, settings, logs, job } = fakeService()
    job.resolve()
    await stopParts(parts, settings)
    const first = logs.slice(0, 2)
    expect(first).toEqual([
      { event: 'shutdown_phase_started', phase: 'refuse_new_work' },
      { event: 'shutdown_phase_ended', phase: 'refuse_new_work', duration_ms: expect.any(Number) },
    ])
    const started = logs.filter((l) => l.event === 'shutdown_phase_started').length
    const ended = logs.filter((l) => l.event === 'shutdown_phase_ended').length
    expect([started, ended]).toEqual([6, 6])
  })

  it('shutdown-report-line: the stop ends with one shutdown_report log event that holds the report', async () => {
    const { parts, settings, logs, job } = fakeService({ connections: 3 })
    job.resolve()
    const report = await stopParts(parts, settings)
    const reports = logs.filter((l) => l.event === 'shutdown_report')
    expect(reports).toHaveLength(1)
    expect(logs.at(-1)).toEqual({ event: 'shutdown_report', ...report })
    expect(report).toMatchObject({ connections_closed: 3, jobs_lost: 0, tasks_left: [], errors: [] })
  })

  it('testing-wrong-way-fails: a producer waiting on a full queue stops cleanly, because the stop closes the queue after the producer has stopped', async () => {
    const { parts, settings, job, queue } = fakeService()
    job.resolve()
    const report = await stopParts(parts, settings)
    expect(report.errors).toEqual([])
    expect(queue.closed).toBe(true)
  })

  it('testing-wrong-way-fails: the wrong order, queue first, makes the same producer fail with a send on a closed channel', async () => {
    const queue = new Channel<string>(1)
    const producer = startProducer(queue, ['a', 'b'])
    await turn()
    await expect(closeQueueFirst(queue, producer)).rejects.toThrow('send on closed channel')
  })

  it('shutdown-stuck-producer: a producer that does not stop within the grace fails its phase, and the stop goes on', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    // It ends 5 s after it is asked to: far past the grace.
    const stuck = spawn(
      'stuck-producer',
      (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => setTimeout(resolve, 5_000)),
        ),
    )
    const report = stopParts(
      [
        { name: 'store', phase: 'close_store', stop: () => {} },
        { name: 'stuck', phase: 'stop_producers', stop: (c) => stopTask(stuck, c.graceMs) },
      ],
      { timeoutMs: 10_000, graceMs: 1_000 },
    )
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await report).toMatchObject({
      errors: [{ phase: 'stop_producers', error: 'stuck-producer did not stop within 1000 ms' }],
      exit_code: 1,
    })
    expect((await report).phases.map((p) => p.name)).toEqual(['stop_producers', 'close_store'])
    await vi.advanceTimersByTimeAsync(4_000)
    await stuck
  })

  it('testing-fake-timers: in fake time, running jobs are aborted exactly when the 10 s deadline passes, not 1 ms before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, calls } = fakeService()
    const stopping = stopParts(parts, settings)
    await vi.advanceTimersByTimeAsync(9_999)
    expect(calls).not.toContain('job aborted: ShutdownDeadlineError')
    await vi.advanceTimersByTimeAsync(1)
    await stopping
    expect(calls).toContain('job aborted: ShutdownDeadlineError')
  })

  it('shutdown-deadline-error: the deadline aborts with a ShutdownDeadlineError, which workers read as an interruption', async () => {
    const { parts, settings, calls } = fakeService()
    const stopping = stopParts(parts, { ...settings, timeoutMs: 0 })
    await stopping
    expect(calls).toContain('job aborted: ShutdownDeadlineError')
    const { JobInterruptedError } = await import('../src/jobs/errors.ts')
    expect(new ShutdownDeadlineError('x')).toBeInstanceOf(JobInterruptedError)
  })

  it('a second signal during the wait aborts the jobs at once, without waiting for the deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, calls, logs } = fakeService()
    const hurry = new AbortController()
    const stopping = stopParts(parts, { ...settings, hurry: hurry.signal })
    await vi.advanceTimersByTimeAsync(100)
    expect(await hasSettled(stopping)).toBe(false)
    hurry.abort()
    await stopping
    expect(calls).toContain('job aborted: ShutdownDeadlineError')
    expect(logs.map((l) => l.event)).toContain('shutdown_hurried')
  })

  it('a second signal while requests are in flight closes their connections and goes on', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, calls, server, job } = fakeService({ connections: 2, inFlight: 1 })
    job.resolve()
    const hurry = new AbortController()
    const stopping = stopParts(parts, { ...settings, hurry: hurry.signal })
    expect(await hasSettled(stopping)).toBe(false) // the request holds it
    hurry.abort()
    const report = await stopping
    expect(calls).toContain('server.closeAllConnections')
    expect(report.connections_closed).toBe(2)
    expect(server.connections).toBe(2)
  })

  it('requests in flight may finish until the deadline, then their connections are closed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, calls, server, job } = fakeService({ connections: 1, inFlight: 2 })
    job.resolve()
    const stopping = stopParts(parts, settings)
    await turn()
    server.answer() // one of the two finishes in time
    await vi.advanceTimersByTimeAsync(settings.timeoutMs - 1)
    expect(calls).not.toContain('server.closeAllConnections')
    await vi.advanceTimersByTimeAsync(1)
    await stopping
    expect(calls).toContain('server.closeAllConnections')
  })

  it('shutdown-phase-failure: a phase that fails is reported, the later phases still run, and the exit code is 1', async () => {
    const { parts, settings, calls, job } = fakeService()
    job.resolve()
    const failing: Part = {
      name: 'threads',
      phase: 'close_threads',
      stop: () => Promise.reject(new Error('thread pool would not close')),
    }
    const report = await stopParts([parts[0]!, failing, ...parts.slice(1)], settings)
    expect(calls.at(-1)).toBe('store.close')
    expect(report.errors).toEqual([{ phase: 'close_threads', error: 'thread pool would not close' }])
    expect(report.exit_code).toBe(1)
  })

  it('shutdown-tasks-left: a task still alive at the end is named in the report and fails the stop', async () => {
    const { parts, settings, job } = fakeService()
    job.resolve()
    const report = await stopParts(parts, { ...settings, tasksLeft: () => ['forgotten-loop'] })
    expect(report.tasks_left).toEqual(['forgotten-loop'])
    expect(report.exit_code).toBe(1)
  })

  it('a part with no stop is no phase', async () => {
    const report = await stopParts(
      [{ name: 'recovery', phase: 'recovery' }, { name: 'intake', phase: 'refuse_new_work', stop: () => {} }],
      { timeoutMs: 1_000, graceMs: 100 },
    )
    expect(report.phases.map((p) => p.name)).toEqual(['refuse_new_work'])
    expect(report.exit_code).toBe(0)
  })
})

describe('closeServer with a real HTTP server', () => {
  it('an idle keep-alive connection does not hold the stop open, and a request in flight gets its answer', async () => {
    const answer = deferred()
    const arrived = deferred()
    const server: Server = createServer((req, res) => {
      if (req.url === '/slow') {
        arrived.resolve()
        void answer.promise.then(() => res.end('slow done'))
      } else {
        res.end('quick')
      }
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    // Two agents, so two connections: one left idle, one busy.
    const idleAgent = new Agent({ keepAlive: true })
    const busyAgent = new Agent({ keepAlive: true })
    const get = (path: string, agent: Agent) =>
      new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path, agent }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => (body += chunk))
          res.on('end', () => resolve(body))
        })
          .on('error', reject)
          .end()
      })

    try {
      expect(await get('/quick', idleAgent)).toBe('quick') // now idle
      const slow = get('/slow', busyAgent)
      await arrived.promise
      const closing = closeServer(server, new AbortController().signal)
      expect(await hasSettled(closing)).toBe(false) // the request holds it
      answer.resolve()
      expect(await slow).toBe('slow done')
      expect(await closing).toBe(2)
      expect(server.listening).toBe(false)
    } finally {
      idleAgent.destroy()
      busyAgent.destroy()
      if (server.listening) server.close()
    }
  })
})
