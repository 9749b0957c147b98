// A DATA_DIR of its own for a process test: a copy of the pristine cluster
// that test/setup/postgres.ts made once, so no test waits for initdb.
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { inject } from 'vitest'
import { startEmbeddedPostgres, stopLeftoverServer } from '../../src/jobs/store/embedded.ts'
import { PostgresStore } from '../../src/jobs/store/postgres.ts'

export interface DataDir {
  readonly dir: string
  /**
   * Reads the jobs a stopped service left in it: starts its server, runs
   * `read` on a store (no workers, nothing runs), stops the server.
   */
  inspect<T>(read: (store: PostgresStore) => Promise<T>): Promise<T>
  /** Stops a server a killed service left running on it. */
  stopLeftover(): Promise<boolean>
  /** Stops any leftover server, then deletes the directory. */
  remove(): Promise<void>
}

/** A new data directory with a stopped cluster in it. */
export async function freshDataDir(): Promise<DataDir> {
  const parent = await mkdtemp(path.join(tmpdir(), 'workstream-data-'))
  await chmod(parent, 0o711) // the server may run as another user
  const dir = path.join(parent, 'data')
  // `cp -a` keeps the files' owner: the cluster belongs to the server's user.
  await promisify(execFile)('cp', ['-a', inject('pristineDataDir'), dir])
  return {
    dir,
    async inspect(read) {
      const server = await startEmbeddedPostgres({ dataDir: dir })
      const store = await PostgresStore.open({ connectionString: server.url })
      try {
        return await read(store)
      } finally {
        await store.close()
        await server.stop()
      }
    },
    stopLeftover: () => stopLeftoverServer(dir),
    async remove() {
      await stopLeftoverServer(dir)
      await rm(parent, { recursive: true, force: true })
    },
  }
}
