// The SQL files' reader: regions by name, comments left out, migrations in
// version order. The store runs exactly what these return.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { readMigrations, readStatements } from '../../../src/jobs/store/sql.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'sql-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): URL {
  const full = path.join(dir, name)
  mkdirSync(path.dirname(full), { recursive: true })
  writeFileSync(full, text)
  return pathToFileURL(full)
}

describe('readStatements', () => {
  it('returns each region by name, its comment lines left out, in its own lines', () => {
    const sql = file(
      'queries.sql',
      [
        '-- a file comment, outside any region',
        'SELECT 0',
        '-- #region first',
        '-- what it does',
        'SELECT 1',
        '  -- an indented comment',
        '  FROM t',
        '-- #endregion first',
        '',
        '  --   #region   second-one  ',
        'UPDATE t SET a = 1 -- a trailing comment stays',
        '-- #endregion second-one',
      ].join('\n'),
    )
    const statements = readStatements(sql)
    expect([...statements.keys()]).toEqual(['first', 'second-one'])
    expect(statements.get('first')).toBe('SELECT 1\n  FROM t')
    expect(statements.get('second-one')).toBe('UPDATE t SET a = 1 -- a trailing comment stays')
  })

  it('ends a region only at its own name; a marker with more after its name is a comment', () => {
    const sql = file(
      'nested.sql',
      [
        '-- #region outer',
        'SELECT 1',
        '-- #endregion other',
        '-- #region outer is not a marker',
        'SELECT 2',
        '-- #endregion outer',
      ].join('\n'),
    )
    expect(readStatements(sql).get('outer')).toBe('SELECT 1\nSELECT 2')
  })

  it('takes a marker only as a whole line, with a name of letters, digits, - and _', () => {
    const sql = file(
      'whole-line.sql',
      [
        '-- #region kept',
        'SELECT 1 -- #endregion kept',
        '-- #region kept.too',
        'SELECT 2',
        '-- #endregion kept',
      ].join('\n'),
    )
    const statements = readStatements(sql)
    expect([...statements.keys()]).toEqual(['kept'])
    expect(statements.get('kept')).toBe('SELECT 1 -- #endregion kept\nSELECT 2')
  })

  it('throws, naming it, when a region is not closed', () => {
    const sql = file('open.sql', '-- #region lost\nSELECT 1\n')
    expect(() => readStatements(sql)).toThrow('region "lost" is not closed')
  })

  it("reads the store's own file: every statement the store prepares is there", () => {
    const statements = readStatements()
    for (const name of ['create', 'claim', 'heartbeat', 'finish', 'finish-many', 'rescue']) {
      expect(statements.get(name), name).toMatch(/\S/)
    }
  })
})

describe('readMigrations', () => {
  it('reads N_name.sql files in version order, and nothing else', () => {
    const migrations = new URL('migrations/', pathToFileURL(`${dir}/`))
    // By number, not by name: 10 after 2, though "10_" sorts before "2_".
    file('migrations/10_later.sql', 'SELECT 10')
    file('migrations/2_second-one.sql', 'SELECT 2')
    file('migrations/001_first.sql', 'SELECT 1')
    file('migrations/notes.txt', 'not SQL')
    file('migrations/003_draft.sql.bak', 'not a migration')
    file('migrations/x_004.sql', 'no leading number')
    file('migrations/v5_draft.sql', 'a number, but not leading')
    expect(readMigrations(migrations)).toEqual([
      { version: 1, name: '001_first.sql', sql: 'SELECT 1' },
      { version: 2, name: '2_second-one.sql', sql: 'SELECT 2' },
      { version: 10, name: '10_later.sql', sql: 'SELECT 10' },
    ])
  })

  it("reads the service's own migrations, the first being 1", () => {
    expect(readMigrations()[0]).toMatchObject({ version: 1, name: '001_jobs.sql' })
  })
})
