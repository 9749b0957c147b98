import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { spawn } from '../../src/concurrency/task.ts'
import {
  JobCanceledError,
  JobInterruptedError,
  JobTimeoutError,
  LeaseLostError,
} from '../../src/jobs/errors.ts'
import { defaultHandlers, HandlerRegistry } from '../../src/jobs/handlers.ts'
import { runWorker, type WorkerOptions } from '../../src/jobs/worker.ts'
import {
  gatedAndStubbornHandlers,
  gatedHandlers,
  nextRun,
  workerWorld,
} from './support.ts'

function setup(handlers = gatedHandlers()) {
  const world = workerWorld()
  const stop = new AbortController()
  const options: WorkerOptions = {
    name: 'worker-1',
    store: world.store,
    queue: world.queue,
    handlers: handlers.handlers,
    running: world.running,
    signal: stop.signal,
    events: world.bus,
  }
  const start = () => spawn('worker', () => runWorker(options))
  return { ...handlers, ...world, stop, options, start }
}

describe('runWorker', () => {
  it('worker-runs-job: runs the handler of a job it receives, with the claimed job, and records completed', async () => {
    const t = setup()
    const id = await t.deliver()
    const worker = t.start()
    const run = await nextRun(t.started)
    expect(run.job).toMatchObject({ id, status: 'processing', attempts: 1 })
    run.finish()
    t.queue.close()
    await worker
    expect(await t.store.get(id)).toMatchObject({ status: 'completed', attempts: 1, last_error: null })
    expect(t.events.map((e) => e.event)).toEqual([
      'worker_started',
      'job_started',
      'job_completed',
      'worker_stopped',
    ])
    expect(t.events.at(0)).toEqual({ event: 'worker_started', worker_id: 'worker-1' })
    expect(t.events.at(-1)).toEqual({ event: 'worker_stopped', worker_id: 'worker-1' })
    expect(t.running.size).toBe(0)
  })

  it('needs no one to listen: with no events, each outcome is recorded all the same', async () => {
    const t = setup({ ...gatedHandlers(), handlers: defaultHandlers() })
    const { events: _, ...quiet } = t.options
    const done = await t.deliver({ type: 'sleep', payload: { ms: 0 } })
    const retried = await t.deliver({ type: 'fail', max_retries: 1 })
    const failed = await t.deliver({ type: 'fail', max_retries: 0 })
    t.queue.close()
    await spawn('quiet worker', () => runWorker(quiet))
    expect(await t.store.get(done)).toMatchObject({ status: 'completed' })
    expect(await t.store.get(retried)).toMatchObject({ status: 'retrying' })
    expect(await t.store.get(failed)).toMatchObject({ status: 'failed' })
    expect(t.events).toEqual([])
  })

  it('an attempt whose handler never reads its signal makes no AbortController, and one aborted first hands its reason to the signal read later', async () => {
    const handlers = new HandlerRegistry().register('quiet', { run: async () => {} })
    const t = setup({ ...gatedHandlers(), handlers })
    const worker = t.start() // its task's own controller is not counted
    const Original = globalThis.AbortController
    let made = 0
    globalThis.AbortController = class extends Original {
      constructor() {
        super()
        made += 1
      }
    }
    try {
      const id = await t.deliver({ type: 'quiet' }) // claimed and held
      t.queue.close() // the worker runs what is buffered, then returns
      await worker
      expect(await t.store.get(id)).toMatchObject({ status: 'completed' })
      expect(made).toBe(0)
    } finally {
      globalThis.AbortController = Original
    }
    const claimed = await t.store.create({ type: 'quiet' })
    const [job] = await t.store.claim('worker-test', 1, 60_000)
    const attempt = t.running.hold(job!)
    const reason = new Error('stopped before the handler looked')
    t.running.abort(claimed.job.id, reason)
    expect(attempt.aborted).toBe(true)
    expect([attempt.signal.aborted, attempt.signal.reason]).toEqual([true, reason])
    t.running.abort(claimed.job.id, new Error('later'))
    expect(attempt.signal.reason).toBe(reason)
  })

  it('worker-records-failure: a handler that throws leaves the job failed with its message', async () => {
    const t = setup()
    const id = await t.deliver({ type: 'gated', max_retries: 0 })
    const worker = t.start()
    ;(await nextRun(t.started)).fail('disk full')
    t.queue.close()
    await worker
    expect(await t.store.get(id)).toMatchObject({ status: 'failed', last_error: 'disk full' })
  })

  it('fails for good, with no retry, a job whose type no handler has, naming the known ones', async () => {
    const t = setup()
    const id = await t.deliver('vanished')
    t.queue.close()
    await runWorker(t.options)
    expect(await t.store.get(id)).toMatchObject({
      status: 'failed',
      last_error: 'unknown job type "vanished"; known types: gated',
    })
  })

  it('worker-one-at-a-time: a worker takes the next job only after the one it holds has finished', async () => {
    const t = setup()
    const first = await t.deliver()
    const second = await t.deliver()
    const worker = t.start()
    const run = await nextRun(t.started)
    expect(run.job.id).toBe(first)
    expect(t.queue.length).toBe(1)
    run.finish()
    const next = await nextRun(t.started)
    expect(next.job.id).toBe(second)
    expect((await t.store.get(first))?.status).toBe('completed')
    next.finish()
    t.queue.close()
    await worker
  })

  it('worker-stops-when-drained: returns once the channel is closed and drained', async () => {
    const t = setup()
    const worker = t.start()
    t.queue.close()
    await expect(worker).resolves.toBeUndefined()
  })

  it('worker-stops-on-signal: returns when its signal aborts while it waits for a job', async () => {
    const t = setup()
    const worker = t.start()
    t.stop.abort(new Error('stop'))
    await expect(worker).resolves.toBeUndefined()
    expect(t.events.at(-1)?.event).toBe('worker_stopped')
  })

  it('worker-finishes-held-job: a stop lets the job it holds finish, and it takes no other', async () => {
    const t = setup()
    const held = await t.deliver()
    const next = await t.deliver()
    const worker = t.start()
    const run = await nextRun(t.started)
    t.stop.abort(new Error('stop'))
    expect(run.signal.aborted).toBe(false)
    run.finish()
    await worker
    expect((await t.store.get(held))?.status).toBe('completed')
    expect(t.runs.has(next)).toBe(false)
    expect(t.queue.length).toBe(1) // still in the channel, for the stop to give back
  })

  it('worker-hard-stop-aborts-job: an interruption aborts the running handler, and the job goes back to pending, the attempt not counted', async () => {
    const t = setup()
    const id = await t.deliver()
    const worker = t.start()
    const run = await nextRun(t.started)
    t.running.abortAll(new JobInterruptedError('shutdown deadline passed'))
    expect(run.signal.aborted).toBe(true)
    t.queue.close()
    await worker
    expect(await t.store.get(id)).toMatchObject({
      status: 'pending',
      attempts: 0,
      last_error: 'shutdown deadline passed',
    })
    expect(t.names()).toEqual(['job_started', 'job_interrupted'])
  })

  it('worker-lease-lost: a lost lease aborts the handler and its result is discarded, never written', async () => {
    const t = setup()
    const id = await t.deliver()
    const worker = t.start()
    const run = await nextRun(t.started)
    t.running.abort(id, new LeaseLostError(id))
    t.queue.close()
    await worker
    expect(run.signal.reason).toBeInstanceOf(LeaseLostError)
    expect((await t.store.get(id))?.status).toBe('processing') // untouched
    expect(t.names()).toEqual(['job_started', 'job_result_discarded'])
  })

  it('worker-fenced-result: an outcome the store refuses (the lease was taken back) is reported as discarded', async () => {
    const t = setup()
    const id = await t.deliver()
    const worker = t.start()
    const run = await nextRun(t.started)
    // The rescuer gives the job back while the handler still runs.
    await t.store.rescue({ baseMs: 0, maxMs: 0, all: true })
    run.finish()
    t.queue.close()
    await worker
    expect((await t.store.get(id))?.status).toBe('retrying')
    expect(t.events.find((e) => e.event === 'job_result_discarded')).toMatchObject({
      job_id: id,
      outcome: 'completed',
    })
  })

  it('worker-finish-retried: an outcome the store could not take (unreachable) is written again with backoff', async () => {
    const t = setup()
    const id = await t.deliver()
    const { StoreUnavailableError } = await import('../../src/jobs/errors.ts')
    const finish = t.store.finish.bind(t.store)
    let refusals = 2
    t.store.finish = (lease, outcome) =>
      refusals-- > 0 ? Promise.reject(new StoreUnavailableError('down')) : finish(lease, outcome)
    const worker = t.start()
    ;(await nextRun(t.started)).finish()
    t.queue.close()
    await worker
    expect((await t.store.get(id))?.status).toBe('completed')
    expect(refusals).toBe(-1)
  })

  it('worker-finish-failed: a write that fails for another reason is reported at once, and the worker goes on', async () => {
    const t = setup()
    await t.deliver()
    t.store.finish = () => Promise.reject(new Error('constraint violated'))
    const worker = t.start()
    ;(await nextRun(t.started)).finish()
    t.queue.close()
    await worker
    expect(t.events.find((e) => e.event === 'job_finish_failed')).toMatchObject({
      error: 'constraint violated',
    })
    expect(t.running.size).toBe(0)
  })

  it('runs the real sleep handler and completes the job', async () => {
    const t = setup({ ...gatedHandlers(), handlers: defaultHandlers() })
    const id = await t.deliver({ type: 'sleep', payload: { ms: 0 } })
    t.queue.close()
    await runWorker(t.options)
    expect((await t.store.get(id))?.status).toBe('completed')
  })

  it('treats a handler that throws before returning a promise as a failed attempt', async () => {
    const handlers = new HandlerRegistry().register('sync', {
      run: () => {
        throw new Error('thrown at once')
      },
    })
    const t = setup({ ...gatedHandlers(), handlers })
    const id = await t.deliver({ type: 'sync', max_retries: 0 })
    t.queue.close()
    await runWorker(t.options)
    expect(await t.store.get(id)).toMatchObject({ status: 'failed', last_error: 'thrown at once' })
  })

  it.each([
    ['an object with no prototype', () => Object.create(null), 'a thrown value that cannot be printed'],
    [
      'an error whose message getter throws',
      () =>
        Object.defineProperty(new Error(), 'message', {
          get() {
            throw new Error('no')
          },
        }),
      'a thrown value that cannot be printed',
    ],
    ['a rejected number', () => 42, '42'],
    ['undefined', () => undefined, 'undefined'],
  ])('worker-odd-throw: a handler that throws %s fails its job and leaves the worker running', async (_, value, message) => {
    const handlers = new HandlerRegistry()
      .register('odd', { run: async () => Promise.reject(value()) })
      .register('noop', { run: async () => {} })
    const t = setup({ ...gatedHandlers(), handlers })
    const odd = await t.deliver({ type: 'odd', max_retries: 0 })
    const after = await t.deliver('noop')
    t.queue.close()
    await runWorker(t.options)
    expect(await t.store.get(odd)).toMatchObject({ status: 'failed', last_error: message })
    expect((await t.store.get(after))?.status).toBe('completed')
  })
})

const T0 = new Date('2030-01-01T00:00:00.000Z')

/** A worker under fake timers, with a fixed retry jitter of 0.5. */
function timedSetup() {
  const { handlers, started } = gatedAndStubbornHandlers()
  const world = workerWorld({ now: () => new Date() })
  const stop = new AbortController()
  const worker = spawn('worker', () =>
    runWorker({
      name: 'worker-1',
      store: world.store,
      queue: world.queue,
      handlers,
      running: world.running,
      events: world.bus,
      retry: { baseMs: 1_000, maxMs: 60_000, random: () => 0.5 },
      signal: stop.signal,
    }),
  )
  async function end() {
    world.queue.close()
    await worker
  }
  return { ...world, started, end }
}

describe('one signal per attempt', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries-failed-attempt: a failed attempt with retries left waits as retrying, run_at pushed back by the backoff', async () => {
    const t = timedSetup()
    const id = await t.deliver({ type: 'gated' })
    ;(await nextRun(t.started)).fail('upstream answered 503')
    await t.end()
    // Attempt 1: ceiling 1000 ms, jitter 0.5 → 500 + 250 ms.
    expect(await t.store.get(id)).toMatchObject({
      status: 'retrying',
      attempts: 1,
      last_error: 'upstream answered 503',
      run_at: new Date(T0.getTime() + 750).toISOString(),
    })
    expect(t.names()).toEqual(['job_started', 'job_failed', 'job_retried'])
    expect(t.events[2]).toMatchObject({ event: 'job_failed', final: false })
  })

  it('retries-failed-for-good: a failed attempt with no retry left makes the job failed for good', async () => {
    const t = timedSetup()
    const id = await t.deliver({ type: 'gated', max_retries: 0 })
    ;(await nextRun(t.started)).fail('bad input')
    await t.end()
    expect(await t.store.get(id)).toMatchObject({ status: 'failed', last_error: 'bad input' })
    expect(t.events.find((e) => e.event === 'job_failed')).toMatchObject({ final: true })
  })

  it('timeouts-timed-out: a job past its timeout_ms has its signal aborted, and the attempt fails with "timed out after N ms", to be retried', async () => {
    const t = timedSetup()
    const id = await t.deliver({ type: 'gated', timeout_ms: 500 })
    const run = await nextRun(t.started)
    await vi.advanceTimersByTimeAsync(499)
    expect(run.signal.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(run.signal.reason).toBeInstanceOf(JobTimeoutError)
    await t.end()
    expect(await t.store.get(id)).toMatchObject({
      status: 'retrying',
      attempts: 1,
      last_error: 'timed out after 500 ms',
    })
    expect(t.names()).toEqual(['job_started', 'job_timed_out', 'job_failed', 'job_retried'])
  })

  it.each(['timeout', 'cancel', 'hard stop'] as const)(
    'timeouts-one-signal: the handler gets one signal, and a %s aborts it',
    async (source) => {
      const t = timedSetup()
      const id = await t.deliver({ type: 'gated', timeout_ms: 1_000 })
      const run = await nextRun(t.started)
      if (source === 'timeout') await vi.advanceTimersByTimeAsync(1_000)
      if (source === 'cancel') expect(t.running.abort(id, new JobCanceledError(id))).toBe(true)
      if (source === 'hard stop') t.running.abortAll(new JobInterruptedError('deadline'))
      expect(run.signal.aborted).toBe(true)
      await t.end()
      const expected = { timeout: 'retrying', cancel: 'canceled', 'hard stop': 'pending' }
      expect((await t.store.get(id))?.status).toBe(expected[source])
    },
  )

  it('timeouts-timer-cleared: an attempt that ends in time leaves no timer behind', async () => {
    const t = timedSetup()
    await t.deliver({ type: 'gated', timeout_ms: 60_000 })
    const run = await nextRun(t.started)
    expect(vi.getTimerCount()).toBe(1)
    run.finish()
    await t.end()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('timeouts-no-zombie: a handler that ignores its signal keeps its job processing, and its worker busy, until it returns', async () => {
    const t = timedSetup()
    const stuck = await t.deliver({ type: 'stubborn', timeout_ms: 500 })
    const next = await t.deliver({ type: 'gated' })
    const run = await nextRun(t.started)
    await vi.advanceTimersByTimeAsync(10_000) // 20 times its timeout
    expect(run.signal.aborted).toBe(true)
    expect((await t.store.get(stuck))?.status).toBe('processing')
    expect(t.queue.length).toBe(1) // the worker is still busy
    expect(t.names()).toEqual(['job_started', 'job_timed_out'])
    run.fail('gave up at last')
    ;(await nextRun(t.started)).finish()
    await t.end()
    expect(await t.store.get(stuck)).toMatchObject({
      status: 'retrying',
      last_error: 'timed out after 500 ms',
    })
    expect((await t.store.get(next))?.status).toBe('completed')
  })

  it('timeouts-late-success-completes: a handler that ignores its signal and then succeeds completes its job: its work is done, and a retry would do it twice', async () => {
    const t = timedSetup()
    const id = await t.deliver({ type: 'stubborn', timeout_ms: 500 })
    const run = await nextRun(t.started)
    await vi.advanceTimersByTimeAsync(500)
    run.finish()
    await t.end()
    expect((await t.store.get(id))?.status).toBe('completed')
    expect(t.names()).toEqual(['job_started', 'job_timed_out', 'job_completed'])
  })

  it('timeouts-cancel-wins: a cancel after the timeout makes the job canceled, not retried', async () => {
    const t = timedSetup()
    const id = await t.deliver({ type: 'stubborn', timeout_ms: 500 })
    const run = await nextRun(t.started)
    await vi.advanceTimersByTimeAsync(500)
    t.running.abort(id, new JobCanceledError(id))
    run.fail('stopped')
    await t.end()
    expect((await t.store.get(id))?.status).toBe('canceled')
  })
})
