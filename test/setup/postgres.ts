// vitest globalSetup: one embedded PostgreSQL server for the whole test
// run (fsync off: a test database need not survive a power cut), and a
// template database with the migrations applied. Each test file makes its
// own database from the template (test/support/database.ts) and drops it.
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '../../src/jobs/store/embedded.ts'
import { migrate } from '../../src/jobs/store/migrate.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL of the test server's `postgres` database, as its owner. */
    postgresUrl: string
    /**
     * A `DATA_DIR` holding a new, stopped cluster: process tests copy it
     * (test/support/data-dir.ts) instead of running initdb each time.
     */
    pristineDataDir: string
  }
}

export const TEMPLATE = 'workstream_template'

export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'workstream-test-pg-'))
  await chmod(dataDir, 0o711) // the server may run as another user
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'server'),
    fsync: false,
  })
  const admin = new pg.Client({ connectionString: server.url })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${TEMPLATE}`)
  await admin.end()
  const template = new pg.Pool({ connectionString: withDatabase(server.url, TEMPLATE) })
  await migrate(template)
  await template.end()
  project.provide('postgresUrl', server.url)
  const pristine = path.join(dataDir, 'pristine')
  await (await startEmbeddedPostgres({ dataDir: pristine, fsync: false })).stop()
  project.provide('pristineDataDir', pristine)
  return async () => {
    await server.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** `url` with its database name replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}
