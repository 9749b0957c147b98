import { pathToFileURL } from 'node:url'

/** Where an example writes its lines; a test passes one that captures them. */
export type Out = (line: string) => void

/**
 * Runs an example's `main` when its file is the program being run
 * (`npx tsx src/examples/name.ts`), and does nothing when it is imported.
 */
export function runIfMain(
  moduleUrl: string,
  main: (out: Out) => Promise<void>,
): void {
  const entry = process.argv[1]
  if (entry === undefined || pathToFileURL(entry).href !== moduleUrl) return
  main((line) => console.log(line)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}

/** A database an example may use as it likes, and how to remove it. */
export interface ExampleDatabase {
  readonly url: string
  close(): Promise<void>
}

/**
 * A new PostgreSQL database for one example, with the jobs table made:
 * on the server `EXAMPLE_DATABASE_URL` names (the test run sets it to its
 * own server), or else on an embedded server started in a temporary
 * folder (about two seconds). `close()` drops or deletes it.
 */
export async function exampleDatabase(): Promise<ExampleDatabase> {
  const { default: pg } = await import('pg')
  const { migrate } = await import('../jobs/store/migrate.ts')
  const admin = process.env['EXAMPLE_DATABASE_URL']
  if (admin !== undefined) {
    const name = `example_${Math.random().toString(36).slice(2, 10)}`
    const run = async (sql: string) => {
      const client = new pg.Client({ connectionString: admin })
      await client.connect()
      await client.query(sql).finally(() => client.end())
    }
    await run(`CREATE DATABASE ${name}`)
    const parsed = new URL(admin)
    parsed.pathname = `/${name}`
    const url = parsed.toString()
    await migrateAt(url)
    return { url, close: () => run(`DROP DATABASE ${name} WITH (FORCE)`) }
  }
  const { mkdtemp, chmod, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const path = await import('node:path')
  const { startEmbeddedPostgres } = await import('../jobs/store/embedded.ts')
  const parent = await mkdtemp(path.join(tmpdir(), 'workstream-example-'))
  await chmod(parent, 0o711)
  const server = await startEmbeddedPostgres({ dataDir: path.join(parent, 'data') })
  await migrateAt(server.url)
  return {
    url: server.url,
    async close() {
      await server.stop()
      await rm(parent, { recursive: true, force: true })
    },
  }

  async function migrateAt(url: string) {
    const pool = new pg.Pool({ connectionString: url, max: 1 })
    await migrate(pool).finally(() => pool.end())
  }
}
