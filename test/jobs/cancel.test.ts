import { describe, expect, it } from 'vitest'
import { spawn } from '../../src/concurrency/task.ts'
import { cancelJob } from '../../src/jobs/cancel.ts'
import { JobNotCancelableError, JobNotFoundError } from '../../src/jobs/errors.ts'
import { heartbeat } from '../../src/jobs/leases.ts'
import { RunningJobs } from '../../src/jobs/running.ts'
import { runWorker } from '../../src/jobs/worker.ts'
import { gatedAndStubbornHandlers, nextRun, workerWorld } from './support.ts'

function setup() {
  const world = workerWorld()
  const { handlers, started } = gatedAndStubbornHandlers()
  const stop = new AbortController()
  const worker = spawn('worker', () =>
    runWorker({
      name: 'worker-1',
      store: world.store,
      queue: world.queue,
      handlers,
      running: world.running,
      events: world.bus,
      signal: stop.signal,
    }),
  )
  const deps = { store: world.store, running: world.running, events: world.bus }
  async function end() {
    world.queue.close()
    await worker
  }
  return { ...world, started, deps, end }
}

describe('cancelJob', () => {
  it('timeouts-cancel-pending: a waiting job is canceled at once, and no claim takes it', async () => {
    const t = setup()
    const { job } = await t.store.create({ type: 'gated' })
    const result = await cancelJob(t.deps, job.id)
    expect(result).toMatchObject({ outcome: 'canceled', job: { status: 'canceled' } })
    expect(await t.store.claim('anyone', 10, 60_000)).toEqual([])
    expect(t.events.filter((e) => e.event === 'job_canceled')).toHaveLength(1)
    await t.end()
  })

  it('cancels a retrying job at once', async () => {
    const t = setup()
    const id = await t.deliver('gated')
    ;(await nextRun(t.started)).fail('again later')
    await t.end()
    expect((await t.store.get(id))?.status).toBe('retrying')
    expect((await cancelJob(t.deps, id)).job.status).toBe('canceled')
  })

  it('timeouts-cancel-running: a running job has its signal aborted, and becomes canceled only when its handler returns', async () => {
    const t = setup()
    const id = await t.deliver('gated')
    const run = await nextRun(t.started)
    const result = await cancelJob(t.deps, id)
    expect(result).toMatchObject({ outcome: 'canceling', job: { status: 'processing' } })
    expect(run.signal.aborted).toBe(true)
    await t.end()
    expect((await t.store.get(id))?.status).toBe('canceled')
  })

  it('timeouts-cancel-stubborn: a running job whose handler ignores its signal stays processing until the handler returns', async () => {
    const t = setup()
    const id = await t.deliver('stubborn')
    const run = await nextRun(t.started)
    await cancelJob(t.deps, id)
    expect((await t.store.get(id))?.status).toBe('processing')
    run.finish() // its work is done: completed, not canceled
    await t.end()
    expect((await t.store.get(id))?.status).toBe('completed')
  })

  it('timeouts-cancel-claim-window: a cancel that lands between the claim and the run still reaches the job', async () => {
    const t = setup()
    // Claimed and held, not yet received by the worker: the hand-off window.
    const { job } = await t.store.create({ type: 'gated' })
    const [claimed] = await t.store.claim('test-owner', 1, 60_000)
    const held = t.running.hold(claimed!)
    await cancelJob(t.deps, job.id)
    t.queue.trySend(held)
    await t.end()
    expect((await t.store.get(job.id))?.status).toBe('canceled')
    expect(t.events.some((e) => e.event === 'job_started')).toBe(true)
  })

  it('timeouts-cancel-elsewhere: a job running in another instance is flagged in the store; that instance\'s heartbeat aborts it', async () => {
    const t = setup()
    const id = await t.deliver('gated')
    const run = await nextRun(t.started)
    // The cancel arrives at an instance that does not hold the job.
    const elsewhere = { ...t.deps, running: new RunningJobs() }
    const result = await cancelJob(elsewhere, id)
    expect(result.outcome).toBe('canceling')
    expect(run.signal.aborted).toBe(false)
    await heartbeat({ store: t.store, running: t.running, leaseMs: 60_000, signal: new AbortController().signal })
    expect(run.signal.aborted).toBe(true)
    await t.end()
    expect((await t.store.get(id))?.status).toBe('canceled')
  })

  it('timeouts-cancel-finished: a finished job cannot be canceled', async () => {
    const t = setup()
    const id = await t.deliver('gated')
    ;(await nextRun(t.started)).finish()
    await t.end()
    await expect(cancelJob(t.deps, id)).rejects.toThrow(JobNotCancelableError)
    await expect(cancelJob(t.deps, id)).rejects.toThrow(/it is completed/)
  })

  it('rejects an unknown id with JobNotFoundError', async () => {
    const t = setup()
    await expect(cancelJob(t.deps, 'nope')).rejects.toThrow(JobNotFoundError)
    await t.end()
  })
})
