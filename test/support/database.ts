// A PostgreSQL database of its own for one test file, made from the
// migrated template of test/setup/postgres.ts and dropped after the file.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, inject } from 'vitest'
import { TEMPLATE, withDatabase } from '../setup/postgres.ts'

export interface TestDatabase {
  /** The database's URL (valid from `beforeAll` on). */
  readonly url: string
  /** Empties the jobs table (between tests). */
  truncate(): Promise<void>
  /** Runs `sql` on its own connection and returns the rows. */
  query<T>(sql: string): Promise<T[]>
}

/** Registers the hooks that make and drop this file's database. */
export function useTestDatabase(): TestDatabase {
  const admin = inject('postgresUrl')
  const name = `test_${randomBytes(6).toString('hex')}`
  const url = withDatabase(admin, name)
  beforeAll(async () => {
    await adminQuery(admin, `CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`)
  })
  afterAll(async () => {
    await adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })
  return {
    url,
    truncate: async () => void (await adminQuery(url, 'TRUNCATE jobs')),
    query: (sql) => adminQuery(url, sql),
  }
}

async function adminQuery<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows as T[]
  } finally {
    await client.end()
  }
}
