import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '../../../src/jobs/errors.ts'
import { PostgresStore } from '../../../src/jobs/store/postgres.ts'
import { useTestDatabase } from '../../support/database.ts'
import { describeStoreContract } from './conformance.ts'

const db = useTestDatabase()
const open = () => PostgresStore.open({ connectionString: db.url })

describeStoreContract('PostgresStore', {
  async reset() {
    await db.truncate()
    return { store: await open(), connect: open }
  },
})

describe('PostgresStore', () => {
  it('store-postgres-durable: says it is durable, and a closed store refuses work', async () => {
    const store = await open()
    expect(store.durable).toBe(true)
    await store.close()
    await expect(store.get('x')).resolves.toBeUndefined() // no query needed
    await expect(store.countWaiting(1)).rejects.toThrow()
  })
})

describe('PostgresStore and its connections', () => {
  it('store-postgres-unreachable: a database that refuses or never answers is unavailable, within the connect timeout', async () => {
    // A port that was free a moment ago: the connection is refused.
    const closed = createServer()
    closed.listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const { port } = closed.address() as AddressInfo
    closed.close()
    await once(closed, 'close')
    const refused = PostgresStore.open({ connectionString: `postgres://x@127.0.0.1:${port}/x` })
    await expect(refused).rejects.toThrow(StoreUnavailableError)
    // A server that takes the connection and never says a word.
    const sockets: Socket[] = []
    const silent = createServer((socket) => void sockets.push(socket))
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    try {
      const url = `postgres://x@127.0.0.1:${(silent.address() as AddressInfo).port}/x`
      const opened = PostgresStore.open({ connectionString: url, connectTimeoutMs: 50 })
      await expect(opened).rejects.toThrow(StoreUnavailableError)
      await expect(opened).rejects.toThrow(/timeout/)
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
      await once(silent, 'close')
    }
  })

  it('store-postgres-idle-error: a pooled connection that breaks while idle is reported, not thrown', async () => {
    let heard: (error: Error) => void = () => {}
    const broken = new Promise<Error>((resolve) => (heard = resolve))
    const store = await PostgresStore.open({ connectionString: db.url, onConnectionError: heard })
    try {
      await store.ping() // one connection, idle in the pool now
      const [row] = await db.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE application_name = 'workstream' AND datname = current_database()`,
      )
      expect(row?.n).toBe(1)
      await expect(broken).resolves.toBeInstanceOf(Error)
      // The pool makes a new connection for the next query.
      await expect(store.ping()).resolves.toBeUndefined()
    } finally {
      await store.close()
    }
  })
})

describe('PostgresStore finishes in batches', () => {
  it('store-finish-batched: twenty finishes at once take two statements, not twenty', async () => {
    await db.truncate()
    const store = await open()
    try {
      for (let i = 0; i < 20; i++) await store.create({ type: 'noop', payload: null })
      const claimed = await store.claim('a', 20, 60_000)
      await Promise.all(claimed.map((c) => store.finish(c.lease, { kind: 'completed' })))
      // Rows written by one statement carry its transaction id as xmin:
      // the first finish goes alone, the nineteen that waited for it together.
      const rows = await db.query<{ n: number }>(
        "SELECT count(DISTINCT xmin::text)::int AS n FROM jobs WHERE status = 'completed'",
      )
      expect(claimed).toHaveLength(20)
      expect(rows[0]?.n).toBe(2)
    } finally {
      await store.close()
    }
  })

  it('store-finish-batch-bound: a hundred attempts at most go in one statement', async () => {
    await db.truncate()
    const store = await open()
    try {
      for (let i = 0; i < 102; i++) await store.create({ type: 'noop', payload: null })
      const claimed = await store.claim('a', 102, 60_000)
      await Promise.all(claimed.map((c) => store.finish(c.lease, { kind: 'completed' })))
      // The first alone, then the hundred that waited, then the last one.
      const rows = await db.query<{ xmin: string; n: number }>(
        "SELECT xmin::text, count(*)::int AS n FROM jobs WHERE status = 'completed' GROUP BY 1",
      )
      expect(rows.map((r) => r.n).sort((a, b) => a - b)).toEqual([1, 1, 100])
    } finally {
      await store.close()
    }
  })

  it('store-finish-batch-alone: an attempt the database refuses fails alone, not its batch', async () => {
    await db.truncate()
    const store = await open()
    try {
      for (let i = 0; i < 3; i++) await store.create({ type: 'noop', payload: null })
      const [first, ...rest] = await store.claim('a', 3, 60_000)
      const done = store.finish(first!.lease, { kind: 'completed' })
      // Not a uuid: the statement with it fails, whatever else it holds.
      const bad = store.finish({ ...rest[0]!.lease, id: 'not-a-uuid' }, { kind: 'completed' })
      const good = store.finish(rest[1]!.lease, { kind: 'completed' })
      // A stale lease in the failed batch is fenced when it goes alone.
      const stale = store.finish({ ...rest[0]!.lease, owner: 'b' }, { kind: 'completed' })
      await expect(done).resolves.toMatchObject({ status: 'completed' })
      await expect(bad).rejects.toThrow()
      await expect(good).resolves.toMatchObject({ status: 'completed' })
      await expect(stale).resolves.toBeUndefined()
    } finally {
      await store.close()
    }
  })
})
