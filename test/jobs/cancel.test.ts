import { describe, expect, it } from 'vitest'
import { spawn } from '../../src/concurrency/task.ts'
import { cancelJob, RunningJobs } from '../../src/jobs/cancel.ts'
import {
  JobCanceledError,
  JobNotCancelableError,
  JobNotFoundError,
} from '../../src/jobs/errors.ts'
import { JobEvents, type JobEvent } from '../../src/jobs/events.ts'
import { MemoryStore } from '../../src/jobs/memory-store.ts'
import { createJobQueue } from '../../src/jobs/queue.ts'
import { runWorker } from '../../src/jobs/worker.ts'
import { gatedAndStubbornHandlers, nextRun } from './support.ts'

function setup() {
  const { handlers, started, runs } = gatedAndStubbornHandlers()
  const store = new MemoryStore()
  const queue = createJobQueue(10)
  const running = new RunningJobs()
  const seen: JobEvent[] = []
  const events = new JobEvents()
  events.subscribe((e) => seen.push(e))
  const stop = new AbortController()
  const deps = { store, running, events }
  const startWorker = () =>
    spawn('worker', () =>
      runWorker({ name: 'worker-1', store, queue, handlers, running, events, signal: stop.signal }),
    )
  async function enqueue(type = 'gated') {
    const job = await store.create({ type })
    queue.trySend(job.id)
    return job.id
  }
  return { store, queue, running, seen, deps, started, runs, startWorker, enqueue }
}

describe('cancelJob', () => {
  it('timeouts-cancel-pending: a pending job is canceled at once, and the worker that later receives its id skips it', async () => {
    const t = setup()
    const id = await t.enqueue()
    const result = await cancelJob(t.deps, id)
    expect(result).toMatchObject({ outcome: 'canceled', job: { id, status: 'canceled' } })
    const worker = t.startWorker()
    t.queue.close()
    await worker
    expect(t.runs.has(id)).toBe(false)
    expect(t.seen.map((e) => e.event)).toEqual([
      'job_canceled',
      'worker_started',
      'job_skipped',
      'worker_stopped',
    ])
  })

  it('cancels a retrying job at once', async () => {
    const t = setup()
    const job = await t.store.create({ type: 'gated' })
    await t.store.transition(job.id, 'pending', 'processing')
    await t.store.transition(job.id, 'processing', 'retrying', { last_error: 'x' })
    expect((await cancelJob(t.deps, job.id)).job.status).toBe('canceled')
  })

  it('timeouts-cancel-running: a running job has its signal aborted, and becomes canceled only when its handler returns', async () => {
    const t = setup()
    const id = await t.enqueue()
    const worker = t.startWorker()
    const run = await nextRun(t.started)
    const result = await cancelJob(t.deps, id)
    expect(result).toMatchObject({ outcome: 'canceling', job: { status: 'processing' } })
    expect(run.signal.reason).toBeInstanceOf(JobCanceledError)
    // The gated handler rejects on abort; once it has, the job is canceled.
    t.queue.close()
    await worker
    expect((await t.store.get(id))?.status).toBe('canceled')
    expect(t.seen.find((e) => e.event === 'job_canceled')).toMatchObject({
      job_id: id,
      worker_id: 'worker-1',
      attempt: 1,
    })
    expect(t.running.size).toBe(0)
  })

  it('timeouts-cancel-stubborn: a running job whose handler ignores its signal stays processing until the handler returns', async () => {
    const t = setup()
    const id = await t.enqueue('stubborn')
    const worker = t.startWorker()
    const run = await nextRun(t.started)
    expect((await cancelJob(t.deps, id)).outcome).toBe('canceling')
    expect((await cancelJob(t.deps, id)).outcome).toBe('canceling') // again: same answer
    expect((await t.store.get(id))?.status).toBe('processing')
    run.fail('ended at last')
    t.queue.close()
    await worker
    expect((await t.store.get(id))?.status).toBe('canceled')
  })

  it('timeouts-cancel-claim-window: a cancel that lands between the claim and the run still reaches the job', async () => {
    const t = setup()
    const id = await t.enqueue()
    let answer: unknown
    // A store that lets a cancel request run right after the claim's write.
    const store = {
      create: t.store.create.bind(t.store),
      get: t.store.get.bind(t.store),
      list: t.store.list.bind(t.store),
      delete: t.store.delete.bind(t.store),
      transition: (async (jobId, from, to, changes) => {
        const moved = await t.store.transition(jobId, from, to, changes)
        if (to === 'processing') {
          answer = await cancelJob({ ...t.deps, store: t.store }, jobId).catch((e: unknown) => e)
        }
        return moved
      }) as typeof t.store.transition,
    }
    const { handlers } = gatedAndStubbornHandlers()
    const worker = spawn('worker', () =>
      runWorker({ name: 'w', store, queue: t.queue, handlers, running: t.running, signal: new AbortController().signal }),
    )
    t.queue.close()
    await worker
    expect(answer).toMatchObject({ outcome: 'canceling' })
    expect((await t.store.get(id))?.status).toBe('canceled')
  })

  it('timeouts-cancel-finished: a finished job cannot be canceled', async () => {
    const t = setup()
    const id = await t.enqueue()
    await cancelJob(t.deps, id)
    const again = cancelJob(t.deps, id)
    await expect(again).rejects.toThrow(JobNotCancelableError)
    await expect(cancelJob(t.deps, id)).rejects.toThrow(`job ${id} cannot be canceled: it is canceled`)
  })

  it('rejects an unknown id with JobNotFoundError', async () => {
    const t = setup()
    await expect(cancelJob(t.deps, 'nope')).rejects.toThrow(JobNotFoundError)
  })

  it('refuses, after a bounded number of reads, a processing job that no worker here holds', async () => {
    const t = setup()
    const job = await t.store.create({ type: 'gated' })
    await t.store.transition(job.id, 'pending', 'processing')
    await expect(cancelJob(t.deps, job.id)).rejects.toThrow('no worker here holds it')
  })
})

describe('RunningJobs', () => {
  it('keeps one switch per worker, so a worker that loses the claim releases only its own', () => {
    const running = new RunningJobs()
    const mine = running.register('a')
    const theirs = running.register('a')
    running.release('a', theirs)
    expect(running.cancel('a')).toBe(true)
    expect(mine.signal.aborted).toBe(true)
    expect(theirs.signal.aborted).toBe(false)
    running.release('a', mine)
    expect(running.size).toBe(0)
    expect(running.cancel('a')).toBe(false)
  })
})
