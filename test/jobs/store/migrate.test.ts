import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { migrate } from '../../../src/jobs/store/migrate.ts'
import { readMigrations } from '../../../src/jobs/store/sql.ts'
import { withDatabase } from '../../setup/postgres.ts'

// A database with nothing in it, not even the migrations.
const admin = inject('postgresUrl')
const name = `blank_${randomBytes(6).toString('hex')}`
const url = withDatabase(admin, name)

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  await client.query(sql).finally(() => client.end())
}

beforeAll(() => adminQuery(`CREATE DATABASE ${name}`))
afterAll(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))

describe('migrate', () => {
  it('durable-migrations-once: two instances migrating one new database at once apply each migration once; a third run changes nothing', async () => {
    const pools = [1, 2, 3].map(() => new pg.Pool({ connectionString: url, max: 1 }))
    try {
      const [first, second] = await Promise.all([migrate(pools[0]!), migrate(pools[1]!)])
      const all = readMigrations().map((m) => m.version)
      // One of them applied everything; the other waited, then found it done.
      expect([first, second].sort((a, b) => b.length - a.length)).toEqual([all, []])
      expect(await migrate(pools[2]!)).toEqual([])
      const { rows } = await pools[2]!.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      )
      expect(rows.map((r) => r.version)).toEqual(all)
    } finally {
      await Promise.all(pools.map((pool) => pool.end()))
    }
  })

  it('durable-migration-rolls-back: a migration that fails leaves the database as it was', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 })
    try {
      const broken = [
        ...readMigrations(),
        { version: 999, name: '999_broken.sql', sql: 'CREATE TABLE half (x int); SELECT 1/0' },
      ]
      await expect(migrate(pool, broken)).rejects.toThrow(/division by zero/)
      const { rows } = await pool.query(
        "SELECT to_regclass('half') AS half, (SELECT max(version) FROM schema_migrations) AS v",
      )
      expect(rows[0]).toEqual({ half: null, v: Math.max(...readMigrations().map((m) => m.version)) })
    } finally {
      await pool.end()
    }
  })
})
