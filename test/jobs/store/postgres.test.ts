import { describe, expect, it } from 'vitest'
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
      await expect(done).resolves.toMatchObject({ status: 'completed' })
      await expect(bad).rejects.toThrow()
      await expect(good).resolves.toMatchObject({ status: 'completed' })
    } finally {
      await store.close()
    }
  })
})
