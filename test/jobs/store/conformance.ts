// The store contract as tests: every store runs this one suite
// (memory.test.ts, postgres.test.ts), so both keep the same promises.
//
// Time: a lease of -1 ms is expired when it is made, and a retry delay
// of 0 is due at once; the memory store's clock ticks a millisecond at
// every read, like the database's `now()` between two statements. No
// test waits for time to pass.
import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  IdempotencyConflictError,
  InvalidPayloadError,
} from '../../../src/jobs/errors.ts'
import type {
  ClaimedJob,
  JobStore,
  Lease,
  Outcome,
} from '../../../src/jobs/store/contract.ts'

/** How a suite gets stores: `reset` a new empty one per test. */
export interface StoreFixture {
  /**
   * An empty store for one test, and `connect`, which opens another
   * handle on the same jobs (its own connections, for a database).
   */
  reset(): Promise<{ store: JobStore; connect: () => Promise<JobStore> }>
}

const LONG = 60_000
const EXPIRED = -1
const RESCUE = { baseMs: 1_000, maxMs: 60_000 }
const NO_BACKOFF = { baseMs: 0, maxMs: 0 }

export function describeStoreContract(name: string, fixture: StoreFixture) {
  describe(`${name} keeps the store contract`, () => {
    let store: JobStore
    let handles: JobStore[] = []
    let connect: () => Promise<JobStore>

    beforeEach(async () => {
      const made = await fixture.reset()
      store = made.store
      handles = [store]
      connect = async () => {
        const handle = await made.connect()
        handles.push(handle)
        return handle
      }
    })

    afterEach(async () => {
      await Promise.all(handles.map((handle) => handle.close()))
    })

    const create = async (type = 'noop', payload: unknown = null) =>
      (await store.create({ type, payload })).job
    const claimOne = async (owner = 'a', leaseMs = LONG): Promise<ClaimedJob> => {
      const [claimed] = await store.claim(owner, 1, leaseMs)
      if (claimed === undefined) throw new Error('nothing to claim')
      return claimed
    }

    it('store-insert-is-enqueue: a created job is claimable at once, with nothing else done', async () => {
      const job = await create()
      expect(job.status).toBe('pending')
      const [claimed] = await store.claim('a', 10, LONG)
      expect(claimed?.job.id).toBe(job.id)
    })

    it('store-list-creation-order: lists jobs in creation order, a page at a time, by cursor', async () => {
      expect(await store.list({ limit: 10 })).toEqual({ jobs: [] })
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await create()).id)
      // Claiming and finishing changes a job, not its place in the list.
      await store.finish((await claimOne()).lease, { kind: 'completed' })
      const first = await store.list({ limit: 2 })
      expect(first.jobs.map((job) => job.id)).toEqual(ids.slice(0, 2))
      const second = await store.list({ limit: 2, after: first.next })
      expect(second.jobs.map((job) => job.id)).toEqual(ids.slice(2, 4))
      const third = await store.list({ limit: 2, after: second.next })
      expect(third.jobs.map((job) => job.id)).toEqual(ids.slice(4))
      expect(third.next).toBeUndefined()
      const exact = await store.list({ limit: 5 })
      expect(exact.jobs).toHaveLength(5)
      expect(exact.next).toBeUndefined()
    })

    it('store-list-cursor: a cursor of several digits pages on; one that is not a cursor finds nothing', async () => {
      const ids: string[] = []
      for (let i = 0; i < 12; i++) ids.push((await create()).id)
      const first = await store.list({ limit: 10 })
      const second = await store.list({ limit: 10, after: first.next })
      expect(second.jobs.map((job) => job.id)).toEqual(ids.slice(10))
      for (const after of [`x${first.next}`, `${first.next}x`, '1'.repeat(19), '']) {
        expect(await store.list({ limit: 10, after })).toEqual({ jobs: [] })
      }
    })

    it('store-list-status: a status filter pages the same way', async () => {
      const ids: string[] = []
      for (let i = 0; i < 4; i++) ids.push((await create()).id)
      await store.finish((await claimOne()).lease, { kind: 'completed' })
      const pending = await store.list({ status: 'pending', limit: 2 })
      expect(pending.jobs.map((job) => job.id)).toEqual(ids.slice(1, 3))
      const rest = await store.list({ status: 'pending', limit: 2, after: pending.next })
      expect(rest.jobs.map((job) => job.id)).toEqual(ids.slice(3))
      const done = await store.list({ status: 'completed', limit: 10 })
      expect(done.jobs.map((job) => job.id)).toEqual([ids[0]])
      expect(await store.list({ limit: 10, after: 'not a cursor' })).toEqual({ jobs: [] })
    })

    it('store-list-bytes: a page holds no more payload than asked, and always at least one job', async () => {
      const kib = 'x'.repeat(1_000)
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await create('noop', kib)).id)
      // About 1 KB each: a 2.5 KB bound takes two a page.
      const first = await store.list({ limit: 10, maxBytes: 2_500 })
      expect(first.jobs.map((job) => job.id)).toEqual(ids.slice(0, 2))
      const second = await store.list({ limit: 10, maxBytes: 2_500, after: first.next })
      expect(second.jobs.map((job) => job.id)).toEqual(ids.slice(2, 4))
      // A bound met exactly still takes the job that meets it ("x…" is 1,002 bytes).
      const exact = await store.list({ limit: 10, maxBytes: 2 * 1_002 })
      expect(exact.jobs.map((job) => job.id)).toEqual(ids.slice(0, 2))
      // A bound smaller than one job still gives one job a page.
      const tiny = await store.list({ limit: 10, maxBytes: 10, after: second.next })
      expect(tiny.jobs.map((job) => job.id)).toEqual(ids.slice(4))
      expect(tiny.next).toBeUndefined()
      const one = await store.list({ limit: 10, maxBytes: 10 })
      expect(one.jobs).toHaveLength(1)
      expect(one.next).toBeDefined()
    })

    it('store-claim-once: claimers on separate connections at once never get the same job', async () => {
      const ids = new Set<string>()
      for (let i = 0; i < 60; i++) ids.add((await create()).id)
      const claimers = [store, ...(await Promise.all([connect(), connect(), connect()]))]
      const seen: string[] = []
      await Promise.all(
        claimers.map(async (claimer, i) => {
          for (;;) {
            const batch = await claimer.claim(`owner-${i}`, 3, LONG)
            if (batch.length === 0) return
            seen.push(...batch.map((claimed) => claimed.job.id))
          }
        }),
      )
      expect(seen).toHaveLength(ids.size)
      expect(new Set(seen)).toEqual(ids)
    })

    it('store-claim-lease: a claim counts the attempt and hands out a lease that names it', async () => {
      const job = await create()
      const { job: claimed, lease } = await claimOne('owner-1')
      expect(claimed).toMatchObject({ id: job.id, status: 'processing', attempts: 1 })
      expect(lease).toEqual({ id: job.id, owner: 'owner-1', attempt: 1 })
      expect(await store.claim('owner-2', 10, LONG)).toEqual([])
    })

    it('store-claim-types: a claim can take only some types, or all but some', async () => {
      const hash = await create('hash')
      const sleep = await create('sleep')
      const [none] = await store.claim('a', 5, LONG, { excludeTypes: ['hash', 'sleep'] })
      expect(none).toBeUndefined()
      const [only] = await store.claim('a', 5, LONG, { types: ['sleep'] })
      expect(only?.job.id).toBe(sleep.id)
      const rest = await store.claim('a', 5, LONG, { excludeTypes: [] })
      expect(rest.map((claimed) => claimed.job.id)).toEqual([hash.id])
    })

    it('store-fenced-finish: a stale owner finishing changes nothing; the new attempt stands', async () => {
      await create()
      const stale = await claimOne('owner-1', EXPIRED)
      expect(await store.rescue(NO_BACKOFF)).toHaveLength(1)
      const second = await claimOne('owner-2')
      await store.finish(second.lease, { kind: 'failed', error: 'second' })
      expect(await store.finish(stale.lease, { kind: 'completed' })).toBeUndefined()
      const job = await store.get(stale.job.id)
      expect(job).toMatchObject({ status: 'failed', last_error: 'second', attempts: 2 })
    })

    it('store-fenced-finish: every outcome needs the lease: owner and attempt both', async () => {
      await create()
      const { lease } = await claimOne('owner-1')
      const wrongOwner = { ...lease, owner: 'owner-2' }
      const wrongAttempt = { ...lease, attempt: lease.attempt + 1 }
      for (const bad of [wrongOwner, wrongAttempt]) {
        expect(await store.finish(bad, { kind: 'completed' })).toBeUndefined()
        expect(await store.heartbeat([bad], LONG)).toEqual([])
      }
      expect((await store.get(lease.id))?.status).toBe('processing')
      expect((await store.finish(lease, { kind: 'completed' }))?.status).toBe('completed')
      // Finished: the lease is spent.
      expect(await store.finish(lease, { kind: 'failed', error: 'x' })).toBeUndefined()
    })

    it('store-finish-at-once: attempts finished at the same moment are each fenced and answered', async () => {
      for (let i = 0; i < 6; i++) await create()
      const claimed = await store.claim('a', 6, LONG)
      expect(claimed).toHaveLength(6)
      const [stale, twice, ...rest] = claimed.map((c) => c.lease) as [Lease, Lease, ...Lease[]]
      const outcomes: Outcome[] = [
        { kind: 'completed' },
        { kind: 'failed', error: 'boom' },
        { kind: 'retry', error: 'again', delayMs: LONG },
        { kind: 'interrupted', reason: 'stopping' },
      ]
      const answers = await Promise.all([
        store.finish({ ...stale, attempt: stale.attempt + 1 }, { kind: 'completed' }),
        store.finish(twice, { kind: 'completed' }),
        store.finish(twice, { kind: 'failed', error: 'second' }),
        ...rest.map((lease, i) => store.finish(lease, outcomes[i] as Outcome)),
      ])
      expect(answers.map((job) => job?.status)).toEqual([
        undefined,
        'completed',
        undefined, // the lease was spent by the finish before it
        'completed',
        'failed',
        'retrying',
        'pending',
      ])
      expect((await store.get(stale.id))?.status).toBe('processing')
      for (const job of answers.filter((j) => j !== undefined)) {
        expect(await store.get(job.id)).toEqual(job)
      }
    })

    it('store-finish-outcomes: each outcome records one status', async () => {
      const outcomes = [
        [{ kind: 'completed' }, { status: 'completed' }],
        [{ kind: 'failed', error: 'boom' }, { status: 'failed', last_error: 'boom' }],
        [{ kind: 'retry', error: 'again', delayMs: LONG }, { status: 'retrying', last_error: 'again' }],
        [{ kind: 'canceled' }, { status: 'canceled' }],
        [{ kind: 'interrupted', reason: 'stopping' }, { status: 'pending', attempts: 0 }],
      ] as const
      for (const [outcome, expected] of outcomes) {
        await create()
        const { lease } = await claimOne()
        const job = await store.finish(lease, outcome)
        expect(job).toMatchObject(expected)
        expect(await store.get(lease.id)).toEqual(job)
      }
    })

    it('store-error-text-kept: an error text the database could not hold is kept with U+FFFD in place of what it cannot', async () => {
      // A handler's message may hold any string; the outcome must still be recorded.
      const texts = [
        ['nul \u0000 here', 'nul \ufffd here'],
        ['half \ud800 pair', 'half \ufffd pair'],
        ['whole \ud83d\ude00 pair', 'whole 😀 pair'],
      ] as const
      for (const [error, kept] of texts) {
        await create()
        const failed = await store.finish((await claimOne()).lease, { kind: 'failed', error })
        expect(failed?.last_error).toBe(kept)
        await create()
        const given = await store.finish((await claimOne()).lease, { kind: 'interrupted', reason: error })
        expect(given?.last_error).toBe(kept)
        await store.requestCancel(given!.id)
      }
    })

    it('store-claim-order: a due retry joins the pending jobs in run_at order, and no more are taken than asked', async () => {
      await create()
      const first = await claimOne()
      await store.finish(first.lease, { kind: 'retry', error: 'x', delayMs: 0 })
      const second = await create()
      const third = await create()
      const two = await store.claim('a', 2, LONG)
      expect(two.map((c) => c.job.id)).toEqual([first.job.id, second.id])
      expect((await store.claim('a', 5, LONG)).map((c) => c.job.id)).toEqual([third.id])
    })

    it('store-cancel-per-attempt: a cancel request belongs to its attempt: the next one starts without it', async () => {
      await create()
      const first = await claimOne()
      expect((await store.requestCancel(first.job.id)).outcome).toBe('requested')
      // Its handler ran on and failed anyway: the retry is a new attempt.
      await store.finish(first.lease, { kind: 'retry', error: 'x', delayMs: 0 })
      const second = await claimOne()
      expect(await store.heartbeat([second.lease], LONG)).toEqual([
        { id: first.job.id, cancelRequested: false },
      ])
    })

    it('store-cancel-retrying: a job waiting for its retry is canceled at once, and never claimed again', async () => {
      await create()
      const { lease } = await claimOne()
      await store.finish(lease, { kind: 'retry', error: 'x', delayMs: 0 })
      expect(await store.requestCancel(lease.id)).toMatchObject({
        outcome: 'canceled',
        job: { status: 'canceled' },
      })
      expect(await store.claim('a', 10, LONG)).toEqual([])
    })

    it('store-retry-run-at: a retrying job is claimable once its run_at is due, not before', async () => {
      await create()
      await create()
      const later = await claimOne()
      const soon = await claimOne()
      const before = Date.parse((await store.get(later.job.id))!.updated_at)
      const waiting = await store.finish(later.lease, { kind: 'retry', error: 'x', delayMs: LONG })
      expect(Date.parse(waiting!.run_at) - before).toBeGreaterThanOrEqual(LONG - 1_000)
      await store.finish(soon.lease, { kind: 'retry', error: 'x', delayMs: 0 })
      const claimed = await store.claim('a', 10, LONG)
      expect(claimed.map((c) => c.job.id)).toEqual([soon.job.id])
      expect(claimed[0]?.job.attempts).toBe(2)
    })

    it('store-interrupted-not-counted: an interrupted attempt is given back, claimable at once', async () => {
      await create()
      const first = await claimOne()
      await store.finish(first.lease, { kind: 'interrupted', reason: 'shutdown' })
      const again = await claimOne()
      expect(again.job).toMatchObject({ id: first.job.id, attempts: 1, last_error: 'shutdown' })
    })

    it('store-heartbeat: extends the leases still held and leaves out the lost ones', async () => {
      await create()
      await create()
      const kept = await claimOne('a', EXPIRED)
      const lost = await claimOne('a', EXPIRED)
      // A heartbeat in time saves a lease the rescuer has not taken yet.
      expect(await store.heartbeat([kept.lease], LONG)).toEqual([
        { id: kept.lease.id, cancelRequested: false },
      ])
      const rescued = await store.rescue(RESCUE)
      expect(rescued.map((r) => r.id)).toEqual([lost.lease.id])
      const held = await store.heartbeat([kept.lease, lost.lease], LONG)
      expect(held.map((h) => h.id)).toEqual([kept.lease.id])
      expect(await store.heartbeat([], LONG)).toEqual([])
    })

    it('store-rescue-expired: an expired lease goes back with backoff; a live one stays', async () => {
      await create()
      await create()
      const expired = await claimOne('crashed', EXPIRED)
      const live = await claimOne('alive', LONG)
      const rescued = await store.rescue(RESCUE)
      expect(rescued).toEqual([
        { id: expired.lease.id, type: 'noop', attempt: 1, owner: 'crashed', status: 'retrying' },
      ])
      const job = await store.get(expired.lease.id)
      expect(job).toMatchObject({ status: 'retrying', attempts: 1 })
      expect(job?.last_error).toMatch(/lease expired: crashed/)
      // Backoff: not claimable before its run_at (base 1 s, halved at least).
      expect(Date.parse(job!.run_at) - Date.parse(job!.updated_at)).toBeGreaterThanOrEqual(499)
      expect((await store.get(live.lease.id))?.status).toBe('processing')
      expect(await store.rescue(RESCUE)).toEqual([])
    })

    it('store-rescue-exhausted: a job whose worker keeps vanishing fails once its attempts run out', async () => {
      const { job } = await store.create({ type: 'noop', max_retries: 1 })
      for (const status of ['retrying', 'failed'] as const) {
        await claimOne('crashed', EXPIRED)
        const [rescued] = await store.rescue(NO_BACKOFF)
        expect(rescued?.status).toBe(status)
      }
      expect(await store.get(job.id)).toMatchObject({
        status: 'failed',
        attempts: 2,
        last_error: expect.stringMatching(/^lease expired: crashed/),
      })
      expect(await store.claim('a', 10, LONG)).toEqual([])
    })

    it('store-rescue-all: at a start that owns the database, every running job comes back', async () => {
      await create()
      const held = await claimOne('gone', LONG)
      expect(await store.rescue(RESCUE)).toEqual([])
      const [rescued] = await store.rescue({ ...RESCUE, all: true })
      expect(rescued).toMatchObject({ id: held.lease.id, status: 'retrying' })
    })

    it('store-cancel-request: a waiting job is canceled now; a running one is flagged for its owner', async () => {
      const waiting = await create()
      const running = await create()
      const canceled = await store.requestCancel(waiting.id)
      expect(canceled).toMatchObject({ outcome: 'canceled', job: { status: 'canceled' } })
      const { lease } = await claimOne()
      expect(lease.id).toBe(running.id)
      const requested = await store.requestCancel(running.id)
      expect(requested).toMatchObject({ outcome: 'requested', job: { status: 'processing' } })
      expect(await store.heartbeat([lease], LONG)).toEqual([
        { id: running.id, cancelRequested: true },
      ])
      await store.finish(lease, { kind: 'canceled' })
      expect(await store.requestCancel(running.id)).toMatchObject({
        outcome: 'finished',
        job: { status: 'canceled' },
      })
      expect(await store.requestCancel(randomUUID())).toEqual({ outcome: 'missing' })
      expect(await store.requestCancel('not-an-id')).toEqual({ outcome: 'missing' })
    })

    it('store-cancel-rescued: a canceled job whose worker vanished ends canceled, not retried', async () => {
      await create()
      const { lease } = await claimOne('crashed', EXPIRED)
      await store.requestCancel(lease.id)
      const [rescued] = await store.rescue(RESCUE)
      expect(rescued?.status).toBe('canceled')
      expect((await store.get(lease.id))?.status).toBe('canceled')
    })

    it('store-prune: deletes finished jobs beyond the newest `keep`, and none that wait or run', async () => {
      const finished: string[] = []
      for (let i = 0; i < 3; i++) {
        await create()
        const { lease } = await claimOne()
        await store.finish(lease, { kind: 'completed' })
        finished.push(lease.id)
      }
      const running = await create()
      const waiting = await create()
      expect((await claimOne()).lease.id).toBe(running.id)
      expect(await store.prune({ olderThanMs: LONG, keep: 10 })).toBe(0)
      expect(await store.prune({ olderThanMs: LONG, keep: 1 })).toBe(2)
      const left = (await store.list({ limit: 10 })).jobs.map((job) => job.id)
      expect(left).toEqual([finished[2], running.id, waiting.id])
      // By age: finished before now, with nothing kept by count.
      expect(await store.prune({ olderThanMs: 0, keep: 1_000 })).toBe(1)
      expect(await store.countByStatus()).toMatchObject({
        completed: 0,
        pending: 1,
        processing: 1,
      })
    })

    it('store-count-waiting: counts waiting jobs, no further than asked', async () => {
      for (let i = 0; i < 6; i++) await create()
      await claimOne()
      // A job waiting for its retry waits too, due or not.
      const retried = await claimOne()
      await store.finish(retried.lease, { kind: 'retry', error: 'x', delayMs: LONG })
      expect(await store.countWaiting(100)).toBe(5)
      expect(await store.countWaiting(3)).toBe(3)
      expect(await store.countByStatus()).toEqual({
        pending: 4,
        processing: 1,
        retrying: 1,
        completed: 0,
        failed: 0,
        canceled: 0,
      })
    })

    it('store-idempotency: the same key and request give the same job; another request is refused', async () => {
      const idempotency = { key: 'k-1', digest: 'd-1' }
      const first = await store.create({ type: 'noop' }, { idempotency })
      const again = await store.create({ type: 'noop' }, { idempotency })
      expect(first.created).toBe(true)
      expect(again).toEqual({ job: first.job, created: false })
      await expect(
        store.create({ type: 'other' }, { idempotency: { key: 'k-1', digest: 'd-2' } }),
      ).rejects.toThrow(IdempotencyConflictError)
      expect((await store.list({ limit: 10 })).jobs).toHaveLength(1)
    })

    it('store-idempotency: the same key from two connections at once makes one job', async () => {
      const other = await connect()
      const idempotency = { key: 'k-race', digest: 'd' }
      const results = await Promise.all(
        [store, other, store, other].map((s) => s.create({ type: 'noop' }, { idempotency })),
      )
      expect(new Set(results.map((r) => r.job.id)).size).toBe(1)
      expect(results.filter((r) => r.created)).toHaveLength(1)
    })

    it('store-jobs-immutable: a job read from the store cannot be changed by its reader', async () => {
      const job = await create('noop', { a: { b: 1 } })
      const read = (await store.get(job.id))!
      for (const target of [job, read]) {
        expect(() => {
          ;(target as { status: string }).status = 'completed'
        }).toThrow(TypeError)
        expect(() => {
          ;((target.payload as { a: { b: number } }).a).b = 2
        }).toThrow(TypeError)
      }
      expect(await store.get(job.id)).toMatchObject({ status: 'pending', payload: { a: { b: 1 } } })
    })

    it('store-refuses-nul: a payload with \\u0000 is refused as invalid, and nothing is stored', async () => {
      await expect(store.create({ type: 'noop', payload: { s: 'a\u0000b' } })).rejects.toThrow(
        InvalidPayloadError,
      )
      await expect(store.create({ type: 'noop', payload: { 'k\u0000': 1 } })).rejects.toThrow(
        InvalidPayloadError,
      )
      // A backslash followed by "u0000" is just text.
      const text = await create('noop', { s: '\\u0000' })
      expect((await store.get(text.id))?.payload).toEqual({ s: '\\u0000' })
      expect((await store.list({ limit: 10 })).jobs).toHaveLength(1)
    })

    it('store-refuses-lone-surrogate: a payload with half a surrogate pair is refused as invalid, and nothing is stored', async () => {
      // JSON.parse accepts "\ud800" alone; jsonb does not (it is not Unicode).
      for (const payload of ['\ud800', { s: 'a\udc00' }, { ['k\ud800']: 1 }, ['\udfff\ud800']]) {
        await expect(store.create({ type: 'noop', payload })).rejects.toThrow(InvalidPayloadError)
      }
      // A whole pair is one character, and kept as it came.
      const emoji = await create('noop', { s: '\ud83d\ude00' })
      expect((await store.get(emoji.id))?.payload).toEqual({ s: '😀' })
      expect((await store.list({ limit: 10 })).jobs).toHaveLength(1)
    })

    it('store-unknown-id: an id that names no job, well-formed or not, finds nothing', async () => {
      const uuid = randomUUID()
      for (const id of [uuid, 'not-an-id', `x${uuid}`, `${uuid}x`]) {
        expect(await store.get(id)).toBeUndefined()
        expect(await store.requestCancel(id)).toEqual({ outcome: 'missing' })
      }
      // A lease comes from a claim, so its id is well-formed.
      const lease = { id: uuid, owner: 'a', attempt: 1 }
      expect(await store.finish(lease, { kind: 'completed' })).toBeUndefined()
    })

    it('store-close: close is idempotent', async () => {
      await store.close()
      await expect(store.close()).resolves.toBeUndefined()
    })
  })
}

