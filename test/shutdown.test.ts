import { once } from 'node:events'
import { Agent, createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setImmediate as turn } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Channel, ChannelClosedError } from '../src/concurrency/channel.ts'
import {
  closeQueueFirst,
  startProducer,
} from '../src/examples/shutdown-wrong-order.ts'
import { MemoryStore } from '../src/jobs/memory-store.ts'
import { requeue } from '../src/jobs/recovery.ts'
import { claim } from '../src/jobs/store.ts'
import {
  shutdown,
  ShutdownDeadlineError,
  type ShutdownOptions,
  type ShutdownParts,
  type ShutdownServer,
  type ShutdownWorkers,
} from '../src/shutdown.ts'
import { deferred } from './jobs/support.ts'

/** How a fake worker's job behaves when its signal aborts. */
type Behaviour = 'stops-on-abort' | 'ignores-abort'

/**
 * Workers that hold jobs the test gives them, over a real store: each job
 * is claimed, runs until the test ends it (`finish`) or, if it heeds its
 * signal, until `abortJobs`; then it goes back to `pending` (`requeue`),
 * written with no signal, as a worker stopped by a shutdown must.
 */
class FakeWorkers implements ShutdownWorkers {
  readonly calls: string[]
  readonly #jobs = new AbortController()
  readonly #runs = new Set<Promise<void>>()
  readonly #finishers = new Map<string, () => void>()
  readonly #store: MemoryStore

  constructor(store: MemoryStore, calls: string[]) {
    this.#store = store
    this.calls = calls
  }

  /** A new job, claimed and running. */
  async hold(behaviour: Behaviour = 'stops-on-abort'): Promise<string> {
    const job = await this.#store.create({ type: 'fake' })
    await claim(this.#store, job.id)
    const done = deferred()
    this.#finishers.set(job.id, () => done.resolve())
    if (behaviour === 'stops-on-abort') {
      this.#jobs.signal.addEventListener('abort', () => done.reject('aborted'))
    }
    const run = done.promise.then(
      async () => void (await this.#store.transition(job.id, 'processing', 'completed')),
      async () => void (await requeue(this.#store, job.id)),
    )
    this.#runs.add(run)
    return job.id
  }

  /** Ends job `id` as a success. */
  finish(id: string): void {
    this.#finishers.get(id)?.()
  }

  stopTaking(): void {
    this.calls.push('workers.stopTaking')
  }

  abortJobs(reason?: unknown): void {
    this.calls.push('workers.abortJobs')
    this.#jobs.abort(reason)
  }

  async wait(): Promise<void> {
    await Promise.all(this.#runs)
  }
}

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

/** Every part, faked, recording what is done to it in `calls`. */
function fakeService(options: { connections?: number; inFlight?: number } = {}) {
  const calls: string[] = []
  const store = new MemoryStore()
  const workers = new FakeWorkers(store, calls)
  const server = new FakeServer(calls, options.connections ?? 0, options.inFlight)
  const queue = new Channel<string>(10)
  const sweeper = startProducer(queue, [])
  const parts: ShutdownParts = {
    refuseNewWork: () => void calls.push('refuseNewWork'),
    server,
    producers: [
      {
        name: 'sweeper',
        abort: (reason) => {
          calls.push('producers.abort')
          sweeper.abort(reason)
        },
        then: (resolve, reject) => sweeper.then(resolve, reject),
      },
    ],
    queue: {
      close: () => {
        calls.push('queue.close')
        queue.close()
      },
    },
    workers,
    threads: { close: async () => void calls.push('threads.close') },
    store: Object.assign(store, {
      close: async () => void calls.push('store.close'),
    }),
  }
  const logs: { event: string; [field: string]: unknown }[] = []
  const settings: ShutdownOptions = {
    timeoutMs: 10_000,
    graceMs: 1_000,
    log: (event, fields) => logs.push({ event, ...fields }),
    tasksLeft: () => [],
  }
  return { parts, settings, calls, logs, store, workers, server, queue }
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

describe('shutdown', () => {
  it('testing-fakes-phase-order: with every part faked, the stop is seen to stop producers first, then close the queue, then let the workers finish, then close resources', async () => {
    const { parts, settings, calls, workers } = fakeService()
    const job = await workers.hold()
    const stopping = shutdown(parts, settings)
    expect(await hasSettled(stopping)).toBe(false) // the job is still running
    workers.finish(job)
    const report = await stopping

    expect(calls).toEqual([
      'refuseNewWork',
      'server.close',
      'server.closeIdleConnections',
      'producers.abort',
      'queue.close',
      'workers.stopTaking',
      'threads.close',
      'store.close',
    ])
    expect(report.phases.map((p) => p.name)).toEqual([
      'refuse_new_work',
      'stop_http',
      'stop_producers',
      'close_queue',
      'finish_jobs',
      'close_resources',
    ])
    expect(report).toMatchObject({
      jobs_finished: 1,
      jobs_requeued: 0,
      jobs_abandoned: [],
      errors: [],
      exit_code: 0,
    })
  })

  it('shutdown-phases-logged: each phase is logged as it starts and as it ends, with its duration', async () => {
    const { parts, settings, logs } = fakeService()
    const report = await shutdown(parts, settings)
    const phaseLogs = logs.filter((l) => l.event.startsWith('shutdown_phase'))
    const expected = report.phases.flatMap((p) => [
      { event: 'shutdown_phase_started', phase: p.name },
      { event: 'shutdown_phase_ended', phase: p.name, duration_ms: p.duration_ms },
    ])
    expect(phaseLogs).toEqual(expected)
    for (const p of report.phases) {
      expect(Number.isInteger(p.duration_ms) && p.duration_ms >= 0).toBe(true)
    }
  })

  it('shutdown-report-line: the stop ends with one shutdown_report log event that holds the report', async () => {
    const { parts, settings, logs, workers } = fakeService({ connections: 3 })
    const job = await workers.hold()
    const stopping = shutdown(parts, settings)
    await turn()
    workers.finish(job)
    const report = await stopping

    const reports = logs.filter((l) => l.event === 'shutdown_report')
    expect(reports).toEqual([{ event: 'shutdown_report', ...report }])
    expect(logs.at(-1)?.event).toBe('shutdown_report')
    const line = JSON.parse(JSON.stringify(reports[0])) as Record<string, unknown>
    expect(Object.keys(line)).toEqual(
      expect.arrayContaining([
        'phases',
        'jobs_finished',
        'jobs_requeued',
        'jobs_abandoned',
        'connections_closed',
      ]),
    )
    expect(report.connections_closed).toBe(3)
  })

  it('testing-wrong-way-fails: a producer waiting on a full queue stops cleanly, because the stop closes the queue after the producer has stopped', async () => {
    const { parts, settings } = fakeService()
    const queue = new Channel<string>(1)
    const producer = startProducer(queue, ['a', 'b', 'c'])
    await turn() // 'a' is queued; the producer waits to send 'b'
    const report = await shutdown(
      { ...parts, producers: [producer], queue },
      settings,
    )
    expect(report.errors).toEqual([])
    expect(queue.closed).toBe(true)
    expect(producer.state).toBe('fulfilled')
  })

  it('testing-wrong-way-fails: the wrong order, queue first, makes the same producer fail with a send on a closed channel', async () => {
    const queue = new Channel<string>(1)
    const producer = startProducer(queue, ['a', 'b', 'c'])
    await turn()
    await expect(closeQueueFirst(queue, producer)).rejects.toBeInstanceOf(
      ChannelClosedError,
    )
  })

  it('shutdown-stuck-producer: a producer that does not stop within the grace keeps the queue open and fails the stop', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, queue } = fakeService()
    const stuck = deferred()
    const stopping = shutdown(
      {
        ...parts,
        producers: [
          { name: 'stuck', abort: () => {}, then: (f, r) => stuck.promise.then(f, r) },
        ],
      },
      settings,
    )
    await vi.advanceTimersByTimeAsync(settings.graceMs)
    const report = await stopping
    expect(queue.closed).toBe(false)
    expect(report.phases.map((p) => p.name)).not.toContain('close_queue')
    expect(report.errors).toEqual([
      {
        phase: 'stop_producers',
        error: 'stuck did not stop; the queue is left open',
      },
    ])
    expect(report.exit_code).toBe(1)
    stuck.resolve()
  })

  it('testing-fake-timers: in fake time, running jobs are aborted exactly when the 10 s deadline passes, not 1 ms before, and go back to pending', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, calls, workers, store } = fakeService()
    const job = await workers.hold('stops-on-abort')
    const stopping = shutdown(parts, settings)

    await vi.advanceTimersByTimeAsync(settings.timeoutMs - 1)
    expect(calls).not.toContain('workers.abortJobs')
    expect((await store.get(job))?.status).toBe('processing')

    await vi.advanceTimersByTimeAsync(1)
    const report = await stopping
    expect(calls).toContain('workers.abortJobs')
    expect((await store.get(job))?.status).toBe('pending')
    expect(report.phases.map((p) => p.name)).toContain('abort_jobs')
    expect(report).toMatchObject({
      jobs_finished: 0,
      jobs_requeued: 1,
      jobs_abandoned: [],
      exit_code: 0,
    })
  })

  it('shutdown-deadline-error: the jobs are aborted with a ShutdownDeadlineError', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, workers } = fakeService()
    const reasons: unknown[] = []
    const stopping = shutdown(
      {
        ...parts,
        workers: {
          stopTaking: () => {},
          abortJobs: (reason) => void reasons.push(reason),
          wait: () => workers.wait(),
        },
      },
      settings,
    )
    await workers.hold('stops-on-abort') // never aborted: the fake ignores it
    await vi.advanceTimersByTimeAsync(settings.timeoutMs + settings.graceMs)
    await stopping
    expect(reasons).toHaveLength(1)
    expect(reasons[0]).toBeInstanceOf(ShutdownDeadlineError)
  })

  it('a job that ignores its signal is reported abandoned after the grace, set pending, and the stop still ends with exit code 1', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, workers, store, logs } = fakeService()
    const stubborn = await workers.hold('ignores-abort')
    const polite = await workers.hold('stops-on-abort')
    const stopping = shutdown(parts, settings)

    await vi.advanceTimersByTimeAsync(settings.timeoutMs)
    expect(await hasSettled(stopping)).toBe(false) // the grace runs
    await vi.advanceTimersByTimeAsync(settings.graceMs)
    const report = await stopping

    expect(report.jobs_abandoned).toEqual([stubborn])
    expect(report.jobs_requeued).toBe(1)
    expect(report.exit_code).toBe(1)
    expect((await store.get(stubborn))?.status).toBe('pending')
    expect((await store.get(polite))?.status).toBe('pending')
    expect(await store.list({ status: 'processing' })).toEqual([])
    expect(logs).toContainEqual({ event: 'jobs_abandoned', job_ids: [stubborn] })

    // The abandoned handler returns late: its write finds the job moved.
    workers.finish(stubborn)
    await workers.wait()
    expect((await store.get(stubborn))?.status).toBe('pending')
  })

  it('a second signal during the wait aborts the jobs at once, without waiting for the deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, calls, workers, logs } = fakeService()
    await workers.hold('stops-on-abort')
    const secondSignal = new AbortController()
    const stopping = shutdown(parts, { ...settings, hurry: secondSignal.signal })
    await turn()
    expect(calls).toContain('workers.stopTaking')
    expect(calls).not.toContain('workers.abortJobs')

    secondSignal.abort()
    const report = await stopping // no fake time has passed
    expect(calls).toContain('workers.abortJobs')
    expect(report.jobs_requeued).toBe(1)
    expect(logs.map((l) => l.event)).toContain('shutdown_hurried')
  })

  it('a second signal while requests are in flight closes their connections and goes on', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, calls, server } = fakeService({
      connections: 2,
      inFlight: 1,
    })
    const secondSignal = new AbortController()
    const stopping = shutdown(parts, { ...settings, hurry: secondSignal.signal })
    expect(await hasSettled(stopping)).toBe(false) // the request holds it
    secondSignal.abort()
    const report = await stopping
    expect(calls).toContain('server.closeAllConnections')
    expect(report.connections_closed).toBe(2)
    expect(server.connections).toBe(2)
  })

  it('requests in flight may finish until the deadline, then their connections are closed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { parts, settings, calls, server } = fakeService({
      connections: 1,
      inFlight: 2,
    })
    const stopping = shutdown(parts, settings)
    await turn()
    server.answer() // one of the two finishes in time
    await vi.advanceTimersByTimeAsync(settings.timeoutMs - 1)
    expect(calls).not.toContain('server.closeAllConnections')
    await vi.advanceTimersByTimeAsync(1)
    await stopping
    expect(calls).toContain('server.closeAllConnections')
  })

  it('shutdown-phase-failure: a phase that fails is reported, the later phases still run, and the exit code is 1', async () => {
    const { parts, settings, calls } = fakeService()
    const report = await shutdown(
      {
        ...parts,
        threads: {
          close: () => Promise.reject(new Error('thread pool would not close')),
        },
      },
      settings,
    )
    expect(calls.at(-1)).toBe('store.close')
    expect(report.errors).toEqual([
      { phase: 'close_resources', error: 'thread pool would not close' },
    ])
    expect(report.exit_code).toBe(1)
  })

  it('shutdown-tasks-left: a tracked task still alive at the end is named in the report and fails the stop', async () => {
    const { parts, settings } = fakeService()
    const report = await shutdown(parts, {
      ...settings,
      tasksLeft: () => [{ name: 'forgotten-timer-loop' }],
    })
    expect(report.tasks_left).toEqual(['forgotten-timer-loop'])
    expect(report.exit_code).toBe(1)
  })

  it('a service whose server and workers never started stops with the phases that apply', async () => {
    const { parts, settings } = fakeService()
    const report = await shutdown(
      { ...parts, server: undefined, workers: undefined, threads: undefined },
      settings,
    )
    expect(report.phases.map((p) => p.name)).toEqual([
      'refuse_new_work',
      'stop_http',
      'stop_producers',
      'close_queue',
      'close_resources',
    ])
    expect(report.exit_code).toBe(0)
  })
})

describe('shutdown with a real HTTP server', () => {
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

      const { parts, settings } = fakeService()
      const stopping = shutdown(
        { ...parts, server, workers: undefined },
        { ...settings, timeoutMs: 60_000 },
      )
      expect(await hasSettled(stopping)).toBe(false) // the request holds it
      answer.resolve()
      expect(await slow).toBe('slow done')
      const report = await stopping
      expect(report.connections_closed).toBe(2)
      expect(server.listening).toBe(false)
    } finally {
      idleAgent.destroy()
      busyAgent.destroy()
      if (server.listening) server.close()
    }
  })
})
