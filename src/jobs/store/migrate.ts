/**
 * Migrations at start: each `.sql` file in `migrations/` runs once per
 * database, in version order, all in one transaction under an advisory
 * lock. Two instances starting at once take turns: the second waits for
 * the lock, then finds every migration applied and changes nothing.
 */
import type { Pool } from 'pg'
import { readMigrations, type Migration } from './sql.ts'

/** Any number, the same in every instance: the lock's name. */
const MIGRATION_LOCK = 7_262_023

// #region migrate
/** Applies the migrations not yet applied; returns their versions. */
export async function migrate(
  pool: Pool,
  migrations: readonly Migration[] = readMigrations(),
): Promise<number[]> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    // Held until COMMIT or ROLLBACK: no second migrator runs meanwhile.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`)
    const { rows } = await client.query<{ version: number }>(
      'SELECT version FROM schema_migrations',
    )
    const applied = new Set(rows.map((row) => row.version))
    const ran: number[] = []
    for (const { version, name, sql } of migrations) {
      if (applied.has(version)) continue
      await client.query(sql)
      await client.query(
        'INSERT INTO schema_migrations (version, name) VALUES ($1, $2)',
        [version, name],
      )
      ran.push(version)
    }
    await client.query('COMMIT')
    return ran
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}
// #endregion migrate
