import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { spawn } from '../../src/concurrency/task.ts'
import { JobEvents, type JobEvent } from '../../src/jobs/events.ts'
import { MemoryStore } from '../../src/jobs/memory-store.ts'
import { createJobQueue, type JobQueue } from '../../src/jobs/queue.ts'
import type { JobStore } from '../../src/jobs/store.ts'
import { runSweeper, sweep } from '../../src/jobs/sweeper.ts'

const T0 = new Date('2030-01-01T00:00:00.000Z')
const at = (ms: number) => new Date(T0.getTime() + ms).toISOString()

/** A job that failed an attempt and waits to run again at `runAt`. */
async function retryingJob(store: JobStore, runAt: string): Promise<string> {
  const job = await store.create({ type: 'noop' })
  await store.transition(job.id, 'pending', 'processing')
  await store.transition(job.id, 'processing', 'retrying', { last_error: 'boom', run_at: runAt })
  return job.id
}

/** `store`, with some of its methods replaced. */
function wrap(store: JobStore, overrides: Partial<JobStore>): JobStore {
  return {
    create: (input) => store.create(input),
    get: (id) => store.get(id),
    list: (filter) => store.list(filter),
    transition: (id, from, to, changes) => store.transition(id, from, to, changes),
    delete: (id) => store.delete(id),
    ...overrides,
  }
}

function drain(queue: JobQueue): string[] {
  const ids: string[] = []
  for (let r = queue.tryRecv(); r?.ok; r = queue.tryRecv()) ids.push(r.value)
  return ids
}

function setup(capacity = 10) {
  const store = new MemoryStore({ now: () => T0 })
  const queue = createJobQueue(capacity)
  const seen: JobEvent[] = []
  const events = new JobEvents()
  events.subscribe((e) => seen.push(e))
  return { store, queue, events, seen, now: () => T0 }
}

describe('sweep', () => {
  it('retries-sweeper-due: enqueues the retrying jobs whose run_at has come, earliest first, and leaves the others', async () => {
    const t = setup()
    const later = await retryingJob(t.store, at(1))
    const due = await retryingJob(t.store, at(0))
    const earlier = await retryingJob(t.store, at(-5_000))
    expect(await sweep(t)).toEqual({ enqueued: 2, left: 0 })
    expect(drain(t.queue)).toEqual([earlier, due])
    expect((await t.store.get(due))?.status).toBe('pending')
    expect((await t.store.get(later))?.status).toBe('retrying')
    expect(t.seen.map((e) => e.event)).toEqual(['job_enqueued', 'job_enqueued'])
  })

  it('retries-sweeper-full-queue: with a full queue a pass enqueues what fits, leaves the rest retrying, and a later pass takes them: none dropped, none twice', async () => {
    const t = setup(2)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push(await retryingJob(t.store, at(i - 10)))
    const sent: string[] = []

    expect(await sweep(t)).toEqual({ enqueued: 2, left: 3 })
    expect(await t.store.list({ status: 'retrying' })).toHaveLength(3)
    expect(await sweep(t)).toEqual({ enqueued: 0, left: 3 }) // still full
    sent.push(...drain(t.queue))
    expect(await sweep(t)).toEqual({ enqueued: 2, left: 1 })
    sent.push(...drain(t.queue))
    expect(await sweep(t)).toEqual({ enqueued: 1, left: 0 })
    sent.push(...drain(t.queue))

    expect(sent).toEqual(ids)
    expect(await t.store.list({ status: 'pending' })).toHaveLength(5)
  })

  it('retries-sweeper-put-back: a job whose slot was taken while the sweeper awaited the store goes back to retrying, not pending off the queue', async () => {
    const t = setup(1)
    const id = await retryingJob(t.store, at(0))
    // A request takes the last slot while the sweeper waits on the store.
    const racy = wrap(t.store, {
      async transition(id, from, to, changes) {
        const result = await t.store.transition(id, from, to, changes)
        if (from === 'retrying') t.queue.trySend('someone-else')
        return result
      },
    })
    expect(await sweep({ ...t, store: racy })).toEqual({ enqueued: 0, left: 1 })
    expect(drain(t.queue)).toEqual(['someone-else'])
    expect((await t.store.get(id))?.status).toBe('retrying')
    expect(await sweep(t)).toEqual({ enqueued: 1, left: 0 })
    expect(drain(t.queue)).toEqual([id])
  })

  it('skips a job canceled since it was listed', async () => {
    const t = setup()
    const id = await retryingJob(t.store, at(0))
    const cancelling = wrap(t.store, {
      async list(filter) {
        const jobs = await t.store.list(filter)
        await t.store.transition(id, 'retrying', 'canceled')
        return jobs
      },
    })
    expect(await sweep({ ...t, store: cancelling })).toEqual({ enqueued: 0, left: 1 })
    expect(t.queue.length).toBe(0)
    expect((await t.store.get(id))?.status).toBe('canceled')
  })
})

describe('runSweeper', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries-sweeper-interval: sweeps at once, then once per interval, and ends when its signal aborts', async () => {
    const store = new MemoryStore()
    const queue = createJobQueue(10)
    const first = await retryingJob(store, at(0))
    const second = await retryingJob(store, at(1_500))
    const sweeper = spawn('sweeper', (signal) =>
      runSweeper({ store, queue, intervalMs: 1_000, signal }),
    )
    await vi.advanceTimersByTimeAsync(0)
    expect(drain(queue)).toEqual([first])
    await vi.advanceTimersByTimeAsync(1_000) // t = 1000: not due yet
    expect(queue.length).toBe(0)
    await vi.advanceTimersByTimeAsync(1_000) // t = 2000
    expect(drain(queue)).toEqual([second])
    sweeper.abort()
    await sweeper
    expect(sweeper.state).toBe('fulfilled')
    expect(vi.getTimerCount()).toBe(0)
  })
})
