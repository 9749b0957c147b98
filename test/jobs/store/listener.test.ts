// The LISTEN connection (src/jobs/store/listener.ts) against the test
// database: what it hears, what it ignores, and how it comes back.
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { NOTIFY_CHANNELS, runListener } from '../../../src/jobs/store/listener.ts'
import { PostgresStore } from '../../../src/jobs/store/postgres.ts'
import { useTestDatabase } from '../../support/database.ts'

const db = useTestDatabase()

/** What the listener reported, in order, and a way to wait for the next. */
function recorder() {
  const seen: string[] = []
  let wake = () => {}
  const record = (what: string) => {
    seen.push(what)
    wake()
  }
  /** Resolves once `what` has been seen `times` times in all. */
  const until = async (what: string, times = 1) => {
    while (seen.filter((s) => s === what).length < times) {
      await new Promise<void>((resolve) => (wake = resolve))
    }
  }
  return { seen, record, until }
}

function listen(connectionString: string) {
  const stop = new AbortController()
  const r = recorder()
  const losses: unknown[] = []
  const done = runListener({
    connectionString,
    signal: stop.signal,
    onJob: () => r.record('job'),
    onCancel: (id) => r.record(`cancel ${id}`),
    onConnected: () => r.record('connected'),
    onLost: (error) => {
      losses.push(error)
      r.record('lost')
    },
  })
  return { ...r, losses, done, stop: () => stop.abort() }
}

describe('runListener', () => {
  it('looks once on connecting, then hears each created job and each cancel of a running one', async () => {
    await db.truncate()
    const listener = listen(db.url)
    const store = await PostgresStore.open({ connectionString: db.url })
    try {
      await listener.until('job')
      expect(listener.seen).toEqual(['connected', 'job'])
      const { job } = await store.create({ type: 'noop' })
      await listener.until('job', 2)
      await store.claim('a', 1, 60_000)
      await store.requestCancel(job.id)
      await listener.until(`cancel ${job.id}`)
      // Other channels, and a cancel that names no job, are not for it.
      await db.query(`SELECT pg_notify('elsewhere', 'x'), pg_notify('${NOTIFY_CHANNELS.cancel}', '')`)
      await store.create({ type: 'noop' }) // a marker: heard after both
      await listener.until('job', 3)
      expect(listener.seen).toEqual(['connected', 'job', 'job', `cancel ${job.id}`, 'job'])
    } finally {
      listener.stop()
      await listener.done
      await store.close()
    }
    expect(listener.losses).toEqual([])
  })

  it('comes back after its connection is killed, and looks again', async () => {
    const listener = listen(db.url)
    try {
      await listener.until('job')
      const killed = await db.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE application_name = 'workstream-listener' AND datname = current_database()`,
      )
      // At least ours: an earlier test's may still be on its way out.
      expect(killed[0]?.n).toBeGreaterThanOrEqual(1)
      await listener.until('connected', 2)
      await listener.until('job', 2)
      expect(listener.seen).toEqual(['connected', 'job', 'lost', 'connected', 'job'])
      expect(listener.losses).toHaveLength(1)
    } finally {
      listener.stop()
      await listener.done
    }
  })

  it('keeps trying a database it cannot reach, and stops at once when told, even mid-backoff', async () => {
    const closed = createServer()
    closed.listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const { port } = closed.address() as AddressInfo
    closed.close()
    await once(closed, 'close')
    const listener = listen(`postgres://x@127.0.0.1:${port}/x`)
    await listener.until('lost', 2)
    listener.stop()
    await listener.done
    expect(listener.seen.every((s) => s === 'lost')).toBe(true)
    expect((listener.losses[0] as { code?: string }).code).toBe('ECONNREFUSED')
  })

  it('resolves, and reports no loss, when stopped while listening', async () => {
    const listener = listen(db.url)
    await listener.until('job')
    listener.stop()
    await expect(listener.done).resolves.toBeUndefined()
    expect(listener.losses).toEqual([])
    expect(listener.seen).toEqual(['connected', 'job'])
  })
})
