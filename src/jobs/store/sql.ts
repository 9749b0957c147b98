/**
 * Reads SQL from the `.sql` files beside this module: the migrations, in
 * order, and the store's statements, by region name. The book shows the
 * same regions, so what a reader sees is what runs.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** One migration: its version (the file's leading number) and its SQL. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

const here = new URL('.', import.meta.url)

/** The migrations in `migrations/`, by version (`001_jobs.sql` is 1). */
export function readMigrations(dir = new URL('migrations/', here)): Migration[] {
  return readdirSync(dir)
    .filter((name) => /^\d+_[\w-]+\.sql$/.test(name))
    .map((name) => ({
      version: Number(name.slice(0, name.indexOf('_'))),
      name,
      sql: readFileSync(new URL(name, dir), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version)
}

/**
 * Every `-- #region name` ... `-- #endregion name` block of a file, by
 * name, without its comment lines. Throws if a region is not closed.
 */
export function readStatements(
  file = new URL('queries.sql', here),
): ReadonlyMap<string, string> {
  const statements = new Map<string, string>()
  let name: string | undefined
  let lines: string[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const marker = /^--\s*#(end)?region\s+([\w-]+)\s*$/.exec(line.trim())
    if (marker?.[1] === undefined && marker) {
      name = marker[2]
      lines = []
    } else if (marker && marker[2] === name) {
      statements.set(name!, lines.join('\n'))
      name = undefined
    } else if (name !== undefined && !line.trim().startsWith('--')) {
      lines.push(line)
    }
  }
  if (name !== undefined) throw new Error(`region "${name}" is not closed`)
  return statements
}
