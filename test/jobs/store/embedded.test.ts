// The embedded PostgreSQL server, in this process (the process tests start
// it in child processes, where a mutation run cannot see it). One test
// runs initdb; the others share a copy of the pristine cluster.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  DataDirInUseError,
  startEmbeddedPostgres,
  stopLeftoverServer,
} from '../../../src/jobs/store/embedded.ts'
import { freshDataDir, type DataDir } from '../../support/data-dir.ts'

const root = process.getuid?.() === 0
const run = promisify(execFile)

/** Runs `sql` on a connection of its own; returns the first row. */
async function queryOne(url: string, sql: string): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows[0] as Record<string, unknown>
  } finally {
    await client.end()
  }
}

/** Whether a server answers on `url`. */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
    await client.end()
    return true
  } catch {
    return false
  }
}

const portOf = (url: string) => Number(new URL(url).port)
const readText = (file: string) => readFile(file, 'utf8').catch(() => undefined)

/** The pid of a process that has exited (its lock is stale). */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' })
  await once(child, 'exit')
  return child.pid!
}

// One copy of the pristine cluster for the file, made when a test first
// needs it: a copy takes about a second, and the mutation run reruns this
// file for each mutant. Each test leaves it stopped and unlocked.
let shared: Promise<DataDir> | undefined
const sharedDir = async () => (await (shared ??= freshDataDir())).dir

afterEach(async () => {
  if (shared === undefined) return
  const dir = await sharedDir()
  await stopLeftoverServer(dir) // a test that failed before its stop
  await rm(path.join(dir, 'service.lock'), { force: true })
})

afterAll(async () => {
  const data = await shared
  // Removed even when stopping failed (a mutant may break stopping).
  await data?.remove().catch(() => rm(path.dirname(data.dir), { recursive: true, force: true }))
})

/**
 * A new temporary folder of `mode`, removed after `test` (with any server
 * a failed test left running on its `data`).
 */
async function withParent(mode: number, test: (parent: string) => Promise<void>) {
  const parent = await mkdtemp(path.join(tmpdir(), 'workstream-embedded-'))
  await chmod(parent, mode)
  try {
    await test(parent)
  } finally {
    await stopLeftoverServer(path.join(parent, 'data')).catch(() => false)
    await rm(parent, { recursive: true, force: true })
  }
}

describe('startEmbeddedPostgres', () => {
  it('durable-first-start-cut-short: creates a cluster in a new data dir, or one a first start left half made, with private credentials, a port file and a lock; stop frees it', async () => {
    await withParent(0o711, async (parent) => {
      const dataDir = path.join(parent, 'data')
      // What a first start stopped before initdb finished leaves (initdb
      // writes PG_VERSION early; the credentials come last): made again.
      await mkdir(path.join(dataDir, 'postgres'), { recursive: true })
      await writeFile(path.join(dataDir, 'postgres', 'PG_VERSION'), '18\n')
      await writeFile(path.join(dataDir, 'postgres', 'half-made'), '')
      const server = await startEmbeddedPostgres({ dataDir, fsync: false })
      try {
        expect(server.adopted).toBe(false)
        const credentials = JSON.parse((await readText(path.join(dataDir, 'credentials.json')))!)
        expect(credentials).toMatchObject({ user: 'workstream', database: 'postgres' })
        expect(credentials.password).toMatch(/^[\w-]{24}$/)
        const url = new URL(server.url)
        expect(url.protocol).toBe('postgres:')
        expect(url.hostname).toBe('127.0.0.1')
        expect(url.username).toBe('workstream')
        expect(decodeURIComponent(url.password)).toBe(credentials.password)
        expect(url.pathname).toBe('/postgres')
        expect((await stat(path.join(dataDir, 'credentials.json'))).mode & 0o777).toBe(0o600)
        expect(await readText(path.join(dataDir, 'port'))).toBe(`${portOf(server.url)}\n`)
        expect(await readText(path.join(dataDir, 'service.lock'))).toBe(`${process.pid}\n`)
        // The password file initdb read is not left behind.
        expect(await readText(path.join(dataDir, '.pwfile'))).toBeUndefined()
        if (root) {
          // PostgreSQL refuses root: the cluster is nobody's, and nobody
          // may pass through the data dir but not list it.
          const uid = Number((await run('id', ['-u', 'nobody'])).stdout)
          const gid = Number((await run('id', ['-g', 'nobody'])).stdout)
          const cluster = await stat(path.join(dataDir, 'postgres'))
          expect([cluster.uid, cluster.gid]).toEqual([uid, gid])
          expect((await stat(dataDir)).mode & 0o777).toBe(0o711)
        }
        expect(
          await queryOne(
            server.url,
            `SELECT 1 AS one, current_setting('fsync') AS fsync,
                    current_setting('synchronous_commit') AS sync,
                    current_setting('full_page_writes') AS fpw,
                    current_setting('listen_addresses') AS listen,
                    current_setting('unix_socket_directories') AS sockets,
                    current_setting('server_encoding') AS encoding,
                    (SELECT datcollate FROM pg_database WHERE datname = 'postgres') AS collate`,
          ),
        ).toEqual({
          one: 1,
          fsync: 'off',
          sync: 'off',
          fpw: 'off',
          listen: '127.0.0.1',
          sockets: '',
          encoding: 'UTF8',
          collate: 'C',
        })
        // Password authentication: a wrong password is refused.
        const wrong = new URL(server.url)
        wrong.password = 'wrong'
        expect(await answers(wrong.toString())).toBe(false)
      } finally {
        const first = server.stop()
        expect(server.stop()).toBe(first) // one shutdown, however many calls
        await first
      }
      await expect(server.stop()).resolves.toBeUndefined()
      expect(await answers(server.url)).toBe(false)
      expect(await readText(path.join(dataDir, 'service.lock'))).toBeUndefined()
      expect(await stopLeftoverServer(dataDir)).toBe(false)
    })
  })

  it('passes settings to the server, and syncs to disk unless told not to', async () => {
    const dir = await sharedDir()
    const server = await startEmbeddedPostgres({ dataDir: dir, settings: ['work_mem=5MB'] })
    try {
      expect(
        await queryOne(
          server.url,
          `SELECT current_setting('work_mem') AS work_mem, current_setting('fsync') AS fsync,
                  current_setting('synchronous_commit') AS sync,
                  current_setting('full_page_writes') AS fpw`,
        ),
      ).toEqual({ work_mem: '5MB', fsync: 'on', sync: 'on', fpw: 'on' })
    } finally {
      await server.stop()
    }
  })

  it('restarts on the last port when it is free, and on another when it is taken', async () => {
    const dir = await sharedDir()
    const first = await startEmbeddedPostgres({ dataDir: dir, fsync: false })
    await first.stop()
    const again = await startEmbeddedPostgres({ dataDir: dir, fsync: false })
    try {
      expect(again.url).toBe(first.url) // same port, same credentials
      expect(again.adopted).toBe(false)
      expect(await answers(again.url)).toBe(true)
    } finally {
      await again.stop()
    }
    // Something else listens on the last port now.
    const squatter = createServer()
    squatter.listen(portOf(first.url), '127.0.0.1')
    await once(squatter, 'listening')
    try {
      const logFile = path.join(dir, 'postgres', 'server.log')
      const logged = (await readText(logFile))?.length ?? 0
      const moved = await startEmbeddedPostgres({ dataDir: dir, fsync: false })
      try {
        expect(portOf(moved.url)).not.toBe(portOf(first.url))
        // Seen taken beforehand: no try that failed to bind.
        expect((await readText(logFile))?.slice(logged)).not.toMatch(/could not bind/)
        expect(await answers(moved.url)).toBe(true)
        expect(await readText(path.join(dir, 'port'))).toBe(`${portOf(moved.url)}\n`)
      } finally {
        await moved.stop()
      }
    } finally {
      squatter.close()
      await once(squatter, 'close')
    }
  })

  it('adopts a server left running by a service that is gone, and stops it', async () => {
    const dir = await sharedDir()
    const left = await startEmbeddedPostgres({ dataDir: dir, fsync: false })
    // The service died without stopping its server: its lock names a dead pid.
    await writeFile(path.join(dir, 'service.lock'), `${await deadPid()}\n`)
    const adopted = await startEmbeddedPostgres({ dataDir: dir, fsync: false })
    try {
      expect(adopted.adopted).toBe(true)
      expect(adopted.url).toBe(left.url)
      expect(await readText(path.join(dir, 'service.lock'))).toBe(`${process.pid}\n`)
      expect(await queryOne(adopted.url, 'SELECT 1 AS one')).toEqual({ one: 1 })
    } finally {
      await adopted.stop()
    }
    expect(await answers(left.url)).toBe(false)
    expect(await readText(path.join(dir, 'service.lock'))).toBeUndefined()
  })

  it('starts a new server when postmaster.pid names a process that is gone', async () => {
    const dir = await sharedDir()
    // What a server killed with SIGKILL leaves: its pid file, its port.
    const pidFile = path.join(dir, 'postgres', 'postmaster.pid')
    await writeFile(pidFile, `${await deadPid()}\n${path.join(dir, 'postgres')}\n0\n5\n`)
    expect(await stopLeftoverServer(dir)).toBe(false)
    const server = await startEmbeddedPostgres({ dataDir: dir, fsync: false })
    try {
      expect(server.adopted).toBe(false)
      expect(portOf(server.url)).not.toBe(5)
      expect(await answers(server.url)).toBe(true)
    } finally {
      await server.stop()
    }
  })
})

describe('stopLeftoverServer', () => {
  it('says false when no server runs, and stops one left running', async () => {
    const dir = await sharedDir()
    expect(await stopLeftoverServer(dir)).toBe(false)
    const left = await startEmbeddedPostgres({ dataDir: dir, fsync: false })
    expect(await answers(left.url)).toBe(true)
    expect(await stopLeftoverServer(dir)).toBe(true)
    expect(await answers(left.url)).toBe(false)
    expect(await stopLeftoverServer(dir)).toBe(false)
  })
})

describe('the lock on a data dir', () => {
  it('refuses a data dir another live process holds, and starts nothing', async () => {
    const dir = await sharedDir()
    const other = spawn('sleep', ['30'], { stdio: 'ignore' })
    try {
      const pid = other.pid!
      const lock = path.join(dir, 'service.lock')
      await writeFile(lock, `${pid}\n`)
      // A relative path: the error names the dir in full.
      const start = startEmbeddedPostgres({ dataDir: path.relative(process.cwd(), dir) })
      await expect(start).rejects.toThrow(DataDirInUseError)
      const error = (await start.catch((e: unknown) => e)) as DataDirInUseError
      expect(error.name).toBe('DataDirInUseError')
      expect(error.dataDir).toBe(dir)
      expect(error.pid).toBe(pid)
      expect(error.message).toBe(
        `DATA_DIR ${dir} is in use by process ${pid}; stop it, ` +
          'or give this service another DATA_DIR or a DATABASE_URL',
      )
      expect(await readText(lock)).toBe(`${pid}\n`) // still the other's
      expect(await readText(path.join(dir, 'postgres', 'postmaster.pid'))).toBeUndefined()
    } finally {
      other.kill()
      await once(other, 'exit')
    }
  })

  it('takes over a lock whose process is gone, or that holds this process or no pid', async () => {
    const dir = await sharedDir()
    const lock = path.join(dir, 'service.lock')
    for (const holder of [`${await deadPid()}\n`, `${process.pid}\n`, '']) {
      await writeFile(lock, holder)
      const server = await startEmbeddedPostgres({ dataDir: dir, fsync: false })
      try {
        expect(await readText(lock)).toBe(`${process.pid}\n`)
        expect(await answers(server.url)).toBe(true)
      } finally {
        await server.stop()
      }
    }
  })
})

describe('running as root', () => {
  it.runIf(root)('refuses a data dir the server user cannot reach, naming the folder', async () => {
    // The closed folder is above the data dir's own parent: every level counts.
    await withParent(0o700, async (closed) => {
      const open = path.join(closed, 'open')
      await mkdir(open, { mode: 0o711 })
      await chmod(open, 0o711)
      const dataDir = path.join(open, 'data')
      const start = startEmbeddedPostgres({ dataDir, fsync: false })
      await expect(start).rejects.toThrow(
        `the embedded PostgreSQL runs as "nobody" (it refuses root), and ` +
          `"nobody" cannot pass through ${closed}: run \`chmod o+x ${closed}\`, ` +
          'or set DATA_DIR to a folder it can reach, or DATABASE_URL',
      )
      expect(await readText(path.join(dataDir, 'service.lock'))).toBeUndefined()
      expect(await readText(path.join(dataDir, 'credentials.json'))).toBeUndefined()
      expect(await stopLeftoverServer(dataDir)).toBe(false)
    })
  })
})

describe('a server that will not start', () => {
  it('rejects with what pg_ctl said, frees the lock, and a good start follows', async () => {
    const dir = await sharedDir()
    const bad = startEmbeddedPostgres({ dataDir: dir, fsync: false, settings: ['no_such_setting=1'] })
    const error = (await bad.catch((e: unknown) => e)) as Error
    expect(error.message).toMatch(
      /^pg_ctl start failed: pg_ctl: could not start server Examine the log output/,
    )
    expect(error.cause).toBeInstanceOf(Error) // execFile's, with pg_ctl's output
    // Where the message sends the reader: the server's log says why, once a try.
    const log = (await readText(path.join(dir, 'postgres', 'server.log'))) ?? ''
    expect(log.match(/unrecognized configuration parameter "no_such_setting"/g)).toHaveLength(3)
    expect(await readText(path.join(dir, 'service.lock'))).toBeUndefined()
    expect(await stopLeftoverServer(dir)).toBe(false)
    const good = await startEmbeddedPostgres({ dataDir: dir, fsync: false })
    try {
      expect(await answers(good.url)).toBe(true)
    } finally {
      await good.stop()
    }
  })
})
