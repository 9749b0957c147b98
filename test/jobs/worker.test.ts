import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { spawn } from '../../src/concurrency/task.ts'
import { HandlerRegistry } from '../../src/jobs/handlers.ts'
import { MemoryStore } from '../../src/jobs/memory-store.ts'
import { createJobQueue } from '../../src/jobs/queue.ts'
import { processJob, runWorker, type WorkerEvent } from '../../src/jobs/worker.ts'
import { gatedHandlers, nextRun } from './support.ts'

function setup(handlers = gatedHandlers()) {
  const store = new MemoryStore()
  const queue = createJobQueue(10)
  const events: WorkerEvent[] = []
  const stop = new AbortController()
  const hardStop = new AbortController()
  const options = {
    name: 'worker-1',
    store,
    queue,
    handlers: handlers.handlers,
    signal: stop.signal,
    jobSignal: hardStop.signal,
    onEvent: (event: WorkerEvent) => events.push(event),
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
    const id = await t.enqueue()
    const worker = spawn('worker', () => runWorker(t.options))
    ;(await nextRun(t.started)).fail('disk full')
    t.queue.close()
    await worker
    expect(await t.store.get(id)).toMatchObject({ status: 'failed', last_error: 'disk full' })
  })

  it('fails a job whose type no handler has, naming the known ones', async () => {
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

  it('worker-hard-stop-aborts-job: aborting the job signal aborts the running handler', async () => {
    const t = setup()
    const id = await t.enqueue()
    const worker = spawn('worker', () => runWorker(t.options))
    const run = await nextRun(t.started)
    t.hardStop.abort(new Error('shutdown deadline passed'))
    expect(run.signal.aborted).toBe(true)
    t.queue.close()
    await worker
    expect(await t.store.get(id)).toMatchObject({
      status: 'failed',
      last_error: 'shutdown deadline passed',
    })
  })

  it('runs the real sleep handler and completes the job', async () => {
    const { defaultHandlers } = await import('../../src/jobs/handlers.ts')
    const store = new MemoryStore()
    const job = await store.create({ type: 'sleep', payload: { ms: 0 } })
    const done = await processJob({ name: 'w', store, queue: createJobQueue(1), handlers: defaultHandlers() }, job.id)
    expect(done?.status).toBe('completed')
  })

  it('treats a handler that throws before returning a promise as a failed job', async () => {
    const store = new MemoryStore()
    const handlers = new HandlerRegistry().register('sync', {
      run: () => {
        throw new Error('thrown at once')
      },
    })
    const job = await store.create({ type: 'sync' })
    const done = await processJob({ name: 'w', store, queue: createJobQueue(1), handlers }, job.id)
    expect(done).toMatchObject({ status: 'failed', last_error: 'thrown at once' })
  })
})

describe('the job domain', () => {
  it('worker-knows-no-http: no file under src/jobs imports HTTP code', () => {
    const dir = join(import.meta.dirname, '../../src/jobs')
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))
    expect(files).toContain('worker.ts')
    for (const file of files) {
      const imports = readFileSync(join(dir, file), 'utf8').match(/from '[^']+'/g) ?? []
      for (const line of imports) {
        expect(line, file).not.toMatch(/hono|\/http\/|node:http|\.\.\/service/)
      }
    }
  })
})
