import { describe, expect, it } from 'vitest'
import { submitWaitingForRoom } from '../../src/examples/backpressure-full-queue.ts'
import { settledYet } from '../../src/examples/testing-controlled-handler.ts'
import { createApp } from '../../src/http/app.ts'
import { defaultHandlers } from '../../src/jobs/handlers.ts'
import type { JobStatus } from '../../src/jobs/job.ts'
import { MemoryStore } from '../../src/jobs/memory-store.ts'
import { createJobQueue } from '../../src/jobs/queue.ts'
import { feedQueue } from '../../src/jobs/recovery.ts'
import { claim } from '../../src/jobs/store.ts'
import { sweep } from '../../src/jobs/sweeper.ts'

const post = (app: ReturnType<typeof createApp>) =>
  app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'sleep', payload: { ms: 10 } }),
  })

function fullService(capacity: number) {
  const store = new MemoryStore()
  const queue = createJobQueue(capacity)
  const app = createApp({ store, queue, handlers: defaultHandlers() })
  return { store, queue, app }
}

describe('a full queue', () => {
  it('backpressure-429-at-once: POST /jobs on a full queue answers 429 with Retry-After and a JSON error in the same turn, and keeps no job', async () => {
    const { store, queue, app } = fullService(2)
    expect((await post(app)).status).toBe(201)
    expect((await post(app)).status).toBe(201)
    const answer = Promise.resolve(post(app))
    expect(await settledYet(answer)).toBe(true) // no waiting for room
    const res = await answer
    expect(res.status).toBe(429)
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0)
    expect(await res.json()).toEqual({ error: expect.any(String) })
    expect(store.size).toBe(2)
    expect(queue.length).toBe(2)
  })

  it('backpressure-waiting-handler-hangs: a submit that waits for room does not answer while the queue is full, and a client that gives up leaves its job stranded', async () => {
    const { store, queue, app } = fullService(1)
    expect((await post(app)).status).toBe(201)
    const client = new AbortController()
    const waiting = submitWaitingForRoom(
      { store, queue },
      { type: 'sleep', payload: { ms: 10 } },
      { signal: client.signal },
    )
    expect(await settledYet(waiting)).toBe(false)
    client.abort(new Error('client gave up'))
    await expect(waiting).rejects.toThrow('client gave up')
    expect(store.size).toBe(2)
    expect(queue.length).toBe(1) // the second job is on no queue
  })

  it('backpressure-feeder-never-blocks-handlers: while the recovery feeder waits for room, POST /jobs still answers 429 at once', async () => {
    const { store, queue, app } = fullService(1)
    const ids = ['a', 'b', 'c']
    const feeder = feedQueue(queue, ids)
    expect(await settledYet(Promise.resolve(feeder))).toBe(false) // waiting
    const res = await post(app)
    expect(res.status).toBe(429)
    expect(store.size).toBe(0)
    feeder.abort()
    expect(await feeder).toEqual({ sent: 1, unsent: 2 })
  })

  it('backpressure-sweeper-never-waits: a sweep over a full queue returns at once and leaves the due retries in the store, dropping none', async () => {
    const { store, queue } = fullService(1)
    queue.trySend('someone-else') // full
    const past = new Date(Date.now() - 1_000).toISOString()
    const due: string[] = []
    for (let i = 0; i < 3; i++) {
      const job = await store.create({ type: 'sleep', payload: { ms: 1 } })
      await claim(store, job.id)
      await store.transition(job.id, 'processing', 'retrying', { run_at: past })
      due.push(job.id)
    }
    const pass = sweep({ store, queue })
    expect(await settledYet(pass)).toBe(true)
    expect(await pass).toEqual({ enqueued: 0, left: 3 })
    const statuses = await Promise.all(
      due.map(async (id) => (await store.get(id))?.status as JobStatus),
    )
    expect(statuses).toEqual(['retrying', 'retrying', 'retrying'])
  })
})
