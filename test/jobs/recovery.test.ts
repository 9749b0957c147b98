import { setImmediate as turn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { ChannelClosedError } from '../../src/concurrency/channel.ts'
import { HandlerRegistry } from '../../src/jobs/handlers.ts'
import {
  JOB_STATUSES,
  TRANSITIONS,
  type Job,
  type JobStatus,
  type NextStatus,
} from '../../src/jobs/job.ts'
import { MemoryStore } from '../../src/jobs/memory-store.ts'
import { WorkerPool } from '../../src/jobs/pool.ts'
import { createJobQueue } from '../../src/jobs/queue.ts'
import { feedQueue, recoverJobs, requeue } from '../../src/jobs/recovery.ts'
import { claim } from '../../src/jobs/store.ts'

/** The shortest walk through `TRANSITIONS` from `pending` to `status`. */
function pathTo(status: JobStatus): JobStatus[] {
  const paths = new Map<JobStatus, JobStatus[]>([['pending', ['pending']]])
  const next: JobStatus[] = ['pending']
  for (let from = next.shift(); from !== undefined; from = next.shift()) {
    for (const to of TRANSITIONS[from] as readonly JobStatus[]) {
      if (paths.has(to)) continue
      paths.set(to, [...(paths.get(from) ?? []), to])
      next.push(to)
    }
  }
  const path = paths.get(status)
  if (path === undefined) throw new Error(`no way from pending to ${status}`)
  return path
}

/**
 * A store that stands in for one that outlived its process: `counts` jobs
 * in each status, made through the store's own transitions, interleaved so
 * that creation order mixes the statuses.
 */
async function seededStore(counts: Partial<Record<JobStatus, number>>) {
  const store = new MemoryStore()
  const wanted = JOB_STATUSES.flatMap((status) =>
    Array.from({ length: counts[status] ?? 0 }, (_, i) => ({ status, i })),
  ).sort((a, b) => a.i - b.i)
  for (const { status } of wanted) {
    const job = await store.create({ type: 'count' })
    const steps = pathTo(status)
    for (let k = 1; k < steps.length; k++) {
      const from = steps[k - 1] as JobStatus
      // Statuses computed at run time: the table checks them at run time.
      const to = steps[k] as NextStatus<JobStatus>
      const moved = await store.transition(job.id, from, to as never)
      if (moved === undefined) throw new Error(`cannot seed ${status}`)
    }
  }
  return store
}

/** Every job by id, as it is now. */
async function snapshot(store: MemoryStore): Promise<Map<string, Job>> {
  return new Map((await store.list()).map((job) => [job.id, job]))
}

/** A registry whose one type, `count`, counts its runs by job id. */
function countingHandlers() {
  const runs = new Map<string, number>()
  const handlers = new HandlerRegistry().register('count', {
    async run(job) {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1)
    },
  })
  return { handlers, runs }
}

const EVERY_STATUS = Object.fromEntries(
  JOB_STATUSES.map((status) => [status, 3]),
) as Record<JobStatus, number>

describe('recoverJobs', () => {
  it('recovery-requeues-processing: processing jobs go back to pending, and every pending id is returned in creation order', async () => {
    const store = await seededStore({ ...EVERY_STATUS, processing: 4 })
    const before = await snapshot(store)
    const wasProcessing = [...before.values()]
      .filter((job) => job.status === 'processing')
      .map((job) => job.id)

    const recovered = await recoverJobs(store)

    expect(recovered.requeued).toEqual(wasProcessing)
    expect(await store.list({ status: 'processing' })).toEqual([])
    const pendingNow = (await store.list({ status: 'pending' })).map((j) => j.id)
    expect(recovered.ids).toEqual(pendingNow)
    expect(pendingNow).toEqual(
      [...before.values()]
        .filter((j) => j.status === 'pending' || j.status === 'processing')
        .map((j) => j.id),
    )
  })

  it('recovery-leaves-finished-jobs: jobs in every other status are left exactly as they were', async () => {
    const store = await seededStore(EVERY_STATUS)
    const before = await snapshot(store)
    await recoverJobs(store)
    const after = await snapshot(store)
    for (const [id, job] of before) {
      if (job.status === 'pending' || job.status === 'processing') continue
      expect(after.get(id)).toBe(job) // the same frozen record: not rewritten
    }
    expect(after.size).toBe(before.size)
  })

  it('recovery-requeues-processing: requeue moves only a processing job, like every compare-and-set', async () => {
    const store = await seededStore({ pending: 1, processing: 1, completed: 1 })
    const [pending, processing, completed] = await store.list()
    expect(await requeue(store, processing?.id ?? '')).toMatchObject({
      status: 'pending',
    })
    expect(await requeue(store, pending?.id ?? '')).toBeUndefined()
    expect(await requeue(store, completed?.id ?? '')).toBeUndefined()
    expect(await requeue(store, 'no-such-job')).toBeUndefined()
  })
})

describe('feedQueue', () => {
  it('recovery-exactly-once: with more pending jobs than the queue holds and workers running, every recovered job runs exactly once and no other job runs', async () => {
    const store = await seededStore({
      ...EVERY_STATUS,
      pending: 40,
      processing: 15,
    })
    const before = await snapshot(store)
    const { handlers, runs } = countingHandlers()
    const queue = createJobQueue(4)

    const recovered = await recoverJobs(store)
    expect(recovered.ids.length).toBe(55) // far more than the capacity
    const pool = new WorkerPool({ size: 3, store, queue, handlers })
    const feeder = feedQueue(queue, recovered.ids)

    expect(await feeder).toEqual({ sent: 55, unsent: 0 })
    queue.close() // the only producer is done: the workers drain and stop
    await pool.wait()

    expect([...runs.keys()].sort()).toEqual([...recovered.ids].sort())
    expect([...runs.values()].every((count) => count === 1)).toBe(true)
    const after = await snapshot(store)
    for (const id of recovered.ids) expect(after.get(id)?.status).toBe('completed')
    for (const [id, job] of before) {
      if (!recovered.ids.includes(id)) expect(after.get(id)).toBe(job)
    }
  })

  it('recovery-no-deadlock: a feeder started before the workers fills the queue, waits, and finishes once they take ids', async () => {
    const store = await seededStore({ pending: 10 })
    const { handlers, runs } = countingHandlers()
    const queue = createJobQueue(3)
    const { ids } = await recoverJobs(store)

    const feeder = feedQueue(queue, ids)
    await turn() // let it run as far as it can with no consumer
    expect(queue.length).toBe(3) // full, and waiting with the rest
    expect(feeder.state).toBe('running')

    const pool = new WorkerPool({ size: 2, store, queue, handlers })
    expect(await feeder).toEqual({ sent: 10, unsent: 0 })
    queue.close()
    await pool.wait()
    expect(runs.size).toBe(10)
  })

  it('recovery-skips-moved-jobs: a job that stopped being pending after recovery listed it is sent, skipped, and never run', async () => {
    const store = await seededStore({ pending: 6 })
    const { handlers, runs } = countingHandlers()
    const queue = createJobQueue(2)
    const { ids } = await recoverJobs(store)
    // Someone else takes two of them (a client cancels, another worker
    // claims) between the listing and the send.
    const taken = [ids[1] ?? '', ids[4] ?? '']
    for (const id of taken) {
      await claim(store, id)
      await store.transition(id, 'processing', 'completed')
    }

    const feeder = feedQueue(queue, ids)
    const pool = new WorkerPool({ size: 2, store, queue, handlers })
    expect(await feeder).toEqual({ sent: 6, unsent: 0 })
    queue.close()
    await pool.wait()

    for (const id of taken) expect(runs.has(id)).toBe(false)
    expect(runs.size).toBe(4)
    expect([...runs.values()].every((count) => count === 1)).toBe(true)
  })

  it('recovery-feeder-stops: a feeder aborted while it waits for room stops at once, and what it did not send stays pending', async () => {
    const store = await seededStore({ pending: 5 })
    const queue = createJobQueue(2)
    const { ids } = await recoverJobs(store)
    const feeder = feedQueue(queue, ids)
    await turn()
    expect(queue.length).toBe(2)

    feeder.abort(new Error('shutting down'))
    expect(await feeder).toEqual({ sent: 2, unsent: 3 })
    expect(queue.length).toBe(2) // nothing more was sent
    expect((await store.list({ status: 'pending' })).length).toBe(5)
  })

  it("recovery-feeder-stops: the owner's signal stops the feeder too", async () => {
    const store = await seededStore({ pending: 3 })
    const queue = createJobQueue(1)
    const owner = new AbortController()
    const feeder = feedQueue(queue, (await recoverJobs(store)).ids, {
      signal: owner.signal,
    })
    owner.abort()
    expect(await feeder).toEqual({ sent: 1, unsent: 2 })
  })

  it('recovery-feeder-closed-queue: a queue closed under a waiting feeder fails the feeder with ChannelClosedError', async () => {
    const store = await seededStore({ pending: 3 })
    const queue = createJobQueue(1)
    const feeder = feedQueue(queue, (await recoverJobs(store)).ids)
    await turn()
    queue.close() // the wrong order: the queue before its producer
    await expect(feeder).rejects.toBeInstanceOf(ChannelClosedError)
  })
})
