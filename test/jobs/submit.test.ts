// Accepting a job (src/jobs/submit.ts): what is refused stores nothing,
// and what is stored is announced, counted and handed to the fetcher once.
import { describe, expect, it } from 'vitest'
import { Backlog } from '../../src/jobs/backlog.ts'
import { NotAcceptingJobsError, QueueFullError, UnknownJobTypeError } from '../../src/jobs/errors.ts'
import { JobEvents, type JobEvent } from '../../src/jobs/events.ts'
import { defaultHandlers } from '../../src/jobs/handlers.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'
import { submitJob, type SubmitDeps } from '../../src/jobs/submit.ts'

function service(capacity = 10, stopping?: AbortSignal) {
  const store = new MemoryStore()
  const events = new JobEvents()
  const heard: JobEvent[] = []
  events.subscribe((event) => heard.push(event))
  let wakes = 0
  const backlog = new Backlog({ store, capacity, refreshMs: Number.POSITIVE_INFINITY })
  const deps: SubmitDeps = {
    store,
    handlers: defaultHandlers(),
    backlog,
    stopping,
    events,
    wake: () => void wakes++,
    defaultTimeoutMs: 5_000,
  }
  return { deps, store, heard, backlog, wakes: () => wakes }
}

const sleep = { type: 'sleep', payload: { ms: 1 } }

describe('submitJob', () => {
  it('stores the job, announces it once with the request id, counts it and wakes the fetcher', async () => {
    const { deps, store, heard, backlog, wakes } = service()
    const { job, created } = await submitJob(deps, sleep, { requestId: 'req-1' })
    expect(created).toBe(true)
    expect(await store.get(job.id)).toMatchObject({ status: 'pending', timeout_ms: 5_000 })
    expect(heard).toEqual([
      { event: 'job_created', job_id: job.id, type: 'sleep', request_id: 'req-1' },
    ])
    expect(await backlog.estimate()).toBe(1)
    expect(wakes()).toBe(1)
  })

  it('keeps a timeout the job asks for, and its retries', async () => {
    const { deps } = service()
    const { job } = await submitJob(deps, { ...sleep, timeout_ms: 50, max_retries: 0 })
    expect(job).toMatchObject({ timeout_ms: 50, max_retries: 0 })
  })

  it('a repeated idempotency key returns the first job, and announces, counts and wakes nothing', async () => {
    const { deps, heard, backlog, wakes } = service()
    const idempotency = { key: 'k', digest: 'd' }
    const first = await submitJob(deps, sleep, { idempotency })
    const again = await submitJob(deps, sleep, { idempotency })
    expect(again).toEqual({ job: first.job, created: false })
    expect(heard).toHaveLength(1)
    expect(await backlog.estimate()).toBe(1)
    expect(wakes()).toBe(1)
  })

  it('refuses, storing nothing: while stopping, an unknown type, a full backlog', async () => {
    const stopping = new AbortController()
    stopping.abort()
    const stopped = service(10, stopping.signal)
    await expect(submitJob(stopped.deps, sleep)).rejects.toThrow(NotAcceptingJobsError)
    const unknown = service()
    await expect(submitJob(unknown.deps, { type: 'nope' })).rejects.toThrow(UnknownJobTypeError)
    const full = service(1)
    await submitJob(full.deps, sleep)
    await expect(submitJob(full.deps, sleep)).rejects.toThrow(new QueueFullError(1))
    expect(stopped.store.size + unknown.store.size).toBe(0)
    expect(full.store.size).toBe(1)
    expect(full.wakes()).toBe(1)
  })

  it('needs no backlog, events or fetcher to wake', async () => {
    const { job, created } = await submitJob(
      { store: new MemoryStore(), handlers: defaultHandlers() },
      sleep,
    )
    expect(created).toBe(true)
    expect(job.status).toBe('pending')
  })
})
