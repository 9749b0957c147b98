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
