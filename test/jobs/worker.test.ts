import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { spawn } from '../../src/concurrency/task.ts'
import { HandlerRegistry } from '../../src/jobs/handlers.ts'
import { MemoryStore } from '../../src/jobs/memory-store.ts'
import { createJobQueue } from '../../src/jobs/queue.ts'
import { JobEvents, type JobEvent } from '../../src/jobs/events.ts'
import { processJob, runWorker } from '../../src/jobs/worker.ts'
import { RunningJobs } from '../../src/jobs/cancel.ts'
import { JobTimeoutError } from '../../src/jobs/errors.ts'
import type { NewJob } from '../../src/jobs/job.ts'
import { gatedAndStubbornHandlers, gatedHandlers, nextRun } from './support.ts'

function setup(handlers = gatedHandlers()) {
  const store = new MemoryStore()
  const queue = createJobQueue(10)
  const events: JobEvent[] = []
  const bus = new JobEvents()
  bus.subscribe((event) => events.push(event))
  const stop = new AbortController()
  const hardStop = new AbortController()
  const options = {
    name: 'worker-1',
    store,
    queue,
    handlers: handlers.handlers,
    signal: stop.signal,
    jobSignal: hardStop.signal,
    events: bus,
  }
  async function enqueue(type = 'gated') {
    const job = await store.create({ type })
    queue.trySend(job.id)
    return job.id
  }
  return { ...handlers, store, queue, events, stop, hardStop, options, enqueue }
}

describe('runWorker', () => {
  it('worker-runs-job: claims a queued job, runs its handler with the stored job, and records completed', async () => {
    const t = setup()
    const id = await t.enqueue()
    const worker = spawn('worker', () => runWorker(t.options))
    const run = await nextRun(t.started)
    expect(run.job).toMatchObject({ id, status: 'processing', attempts: 1 })
    expect((await t.store.get(id))?.status).toBe('processing')
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
  })

  it('worker-records-failure: a handler that throws leaves the job failed with its message', async () => {
    const t = setup()
    const job = await t.store.create({ type: 'gated', max_retries: 0 })
    t.queue.trySend(job.id)
    const id = job.id
    const worker = spawn('worker', () => runWorker(t.options))
    ;(await nextRun(t.started)).fail('disk full')
    t.queue.close()
    await worker
    expect(await t.store.get(id)).toMatchObject({ status: 'failed', last_error: 'disk full' })
  })

  it('fails for good, with no retry, a job whose type no handler has, naming the known ones', async () => {
    const t = setup()
    const id = await t.enqueue('vanished')
    t.queue.close()
    await runWorker(t.options)
    expect(await t.store.get(id)).toMatchObject({
      status: 'failed',
      last_error: 'unknown job type "vanished"; known types: gated',
    })
  })

  it('worker-one-at-a-time: a worker takes the next job only after the one it holds has finished', async () => {
    const t = setup()
    const first = await t.enqueue()
    const second = await t.enqueue()
    const worker = spawn('worker', () => runWorker(t.options))
    const run = await nextRun(t.started)
    expect(run.job.id).toBe(first)
    expect(t.queue.length).toBe(1)
    expect((await t.store.get(second))?.status).toBe('pending')
    run.finish()
    const next = await nextRun(t.started)
    expect(next.job.id).toBe(second)
    expect((await t.store.get(first))?.status).toBe('completed')
    next.finish()
    t.queue.close()
    await worker
  })

  it('worker-skips-unclaimable: an id whose job is not pending is skipped, its handler never run', async () => {
    const t = setup()
    const id = await t.enqueue()
    await t.store.transition(id, 'pending', 'processing') // someone else has it
    t.queue.trySend('no-such-job')
    t.queue.close()
    await runWorker(t.options)
    expect(t.runs.size).toBe(0)
    expect(t.events.filter((e) => e.event === 'job_skipped')).toHaveLength(2)
  })

  it('worker-stops-when-drained: returns once the queue is closed and drained', async () => {
    const t = setup()
    const worker = spawn('worker', () => runWorker(t.options))
    t.queue.close()
    await expect(worker).resolves.toBeUndefined()
  })

  it('worker-stops-on-signal: returns when its signal aborts while it waits for a job', async () => {
    const t = setup()
    const worker = spawn('worker', () => runWorker(t.options))
    t.stop.abort(new Error('stop'))
    await expect(worker).resolves.toBeUndefined()
    expect(t.events.at(-1)?.event).toBe('worker_stopped')
  })

  it('worker-finishes-held-job: a stop lets the job it holds finish, and it takes no other', async () => {
    const t = setup()
    const held = await t.enqueue()
    const queued = await t.enqueue()
    const worker = spawn('worker', () => runWorker(t.options))
    const run = await nextRun(t.started)
    t.stop.abort(new Error('stop'))
    expect(run.signal.aborted).toBe(false)
    run.finish()
    await worker
    expect((await t.store.get(held))?.status).toBe('completed')
    expect((await t.store.get(queued))?.status).toBe('pending')
    expect(t.runs.has(queued)).toBe(false)
  })

  it('worker-hard-stop-aborts-job: aborting the job signal aborts the running handler, and the job goes back to pending', async () => {
    const t = setup()
    const id = await t.enqueue()
    const worker = spawn('worker', () => runWorker(t.options))
    const run = await nextRun(t.started)
    t.hardStop.abort(new Error('shutdown deadline passed'))
    expect(run.signal.aborted).toBe(true)
    t.queue.close()
    await worker
    expect(await t.store.get(id)).toMatchObject({ status: 'pending', attempts: 1 })
  })

  it('runs the real sleep handler and completes the job', async () => {
    const { defaultHandlers } = await import('../../src/jobs/handlers.ts')
    const store = new MemoryStore()
    const job = await store.create({ type: 'sleep', payload: { ms: 0 } })
    const done = await processJob({ name: 'w', store, queue: createJobQueue(1), handlers: defaultHandlers() }, job.id)
    expect(done?.status).toBe('completed')
  })

  it('treats a handler that throws before returning a promise as a failed attempt', async () => {
    const store = new MemoryStore()
    const handlers = new HandlerRegistry().register('sync', {
      run: () => {
        throw new Error('thrown at once')
      },
    })
    const job = await store.create({ type: 'sync', max_retries: 0 })
    const done = await processJob({ name: 'w', store, queue: createJobQueue(1), handlers }, job.id)
    expect(done).toMatchObject({ status: 'failed', last_error: 'thrown at once' })
  })
})

const T0 = new Date('2030-01-01T00:00:00.000Z')

/** A worker under fake timers, with a fixed retry jitter of 0.5. */
function timedSetup() {
  const { handlers, started } = gatedAndStubbornHandlers()
  const store = new MemoryStore()
  const queue = createJobQueue(10)
  const events: JobEvent[] = []
  const bus = new JobEvents()
  bus.subscribe((event) => events.push(event))
  const hardStop = new AbortController()
  const running = new RunningJobs()
  const options = {
    name: 'worker-1',
    store,
    queue,
    handlers,
    events: bus,
    running,
    jobSignal: hardStop.signal,
    retry: { baseMs: 1_000, maxMs: 60_000, random: () => 0.5 },
    now: () => new Date(),
  }
  const stop = new AbortController()
  const worker = spawn('worker', () => runWorker({ ...options, signal: stop.signal }))
  async function enqueue(input: NewJob) {
    const job = await store.create(input)
    queue.trySend(job.id)
    return job.id
  }
  async function end() {
    queue.close()
    await worker
  }
  const names = () => events.map((e) => e.event).filter((e) => !e.startsWith('worker_'))
  return { store, queue, events, names, hardStop, running, started, enqueue, end }
}

describe('one signal per job', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries-failed-attempt: a failed attempt with retries left waits as retrying, run_at pushed back by the backoff', async () => {
    const t = timedSetup()
    const id = await t.enqueue({ type: 'gated' })
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
    const id = await t.enqueue({ type: 'gated', max_retries: 0 })
    ;(await nextRun(t.started)).fail('bad input')
    await t.end()
    expect(await t.store.get(id)).toMatchObject({ status: 'failed', last_error: 'bad input' })
    expect(t.events.find((e) => e.event === 'job_failed')).toMatchObject({ final: true })
  })

  it('timeouts-timed-out: a job past its timeout_ms has its signal aborted, and the attempt fails with "timed out after N ms", to be retried', async () => {
    const t = timedSetup()
    const id = await t.enqueue({ type: 'gated', timeout_ms: 500 })
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
      const id = await t.enqueue({ type: 'gated', timeout_ms: 1_000 })
      const run = await nextRun(t.started)
      if (source === 'timeout') await vi.advanceTimersByTimeAsync(1_000)
      if (source === 'cancel') expect(t.running.cancel(id)).toBe(true)
      if (source === 'hard stop') t.hardStop.abort(new Error('deadline'))
      expect(run.signal.aborted).toBe(true)
      await t.end()
      const expected = { timeout: 'retrying', cancel: 'canceled', 'hard stop': 'pending' }
      expect((await t.store.get(id))?.status).toBe(expected[source])
    },
  )

  it('timeouts-timer-cleared: an attempt that ends in time leaves no timer behind', async () => {
    const t = timedSetup()
    await t.enqueue({ type: 'gated', timeout_ms: 60_000 })
    const run = await nextRun(t.started)
    expect(vi.getTimerCount()).toBe(1)
    run.finish()
    await t.end()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('timeouts-no-zombie: a handler that ignores its signal keeps its job processing, and its worker busy, until it returns', async () => {
    const t = timedSetup()
    const stuck = await t.enqueue({ type: 'stubborn', timeout_ms: 500 })
    const next = await t.enqueue({ type: 'gated' })
    const run = await nextRun(t.started)
    await vi.advanceTimersByTimeAsync(10_000) // 20 times its timeout
    expect(run.signal.aborted).toBe(true)
    expect((await t.store.get(stuck))?.status).toBe('processing')
    expect((await t.store.get(next))?.status).toBe('pending')
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
    const id = await t.enqueue({ type: 'stubborn', timeout_ms: 500 })
    const run = await nextRun(t.started)
    await vi.advanceTimersByTimeAsync(500)
    run.finish()
    await t.end()
    expect((await t.store.get(id))?.status).toBe('completed')
    expect(t.names()).toEqual(['job_started', 'job_timed_out', 'job_completed'])
  })

  it('timeouts-cancel-wins: a cancel after the timeout makes the job canceled, not retried', async () => {
    const t = timedSetup()
    const id = await t.enqueue({ type: 'stubborn', timeout_ms: 500 })
    const run = await nextRun(t.started)
    await vi.advanceTimersByTimeAsync(500)
    t.running.cancel(id)
    run.fail('stopped')
    await t.end()
    expect((await t.store.get(id))?.status).toBe('canceled')
  })
})
