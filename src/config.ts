/**
 * The service's configuration, read from the environment once, at start.
 * Every variable has a default and bounds; a value out of bounds is an
 * error that names the variable, so a typo stops the start instead of
 * running with a surprise.
 */
import { CPU_POOL_SIZE } from './jobs/cpu/pool.ts'
import { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from './jobs/job.ts'
import { isLogLevel, LOG_LEVELS, type LogLevel } from './jobs/log.ts'

// #region config
/** The validated configuration `createService` takes. */
export interface Config {
  /** `HOST`: the interface to listen on (default `127.0.0.1`, loopback). */
  readonly host: string
  /** `PORT`: the TCP port (default 8080; 0 picks a free one). */
  readonly port: number
  /** `WORKER_COUNT`: workers sharing the queue (default 10). */
  readonly workerCount: number
  /** `JOB_QUEUE_CAPACITY`: jobs that may wait before 429 (10,000). */
  readonly queueCapacity: number
  /** `JOB_RETENTION`: finished jobs the store keeps (default 10,000). */
  readonly retention: number
  /** `SHUTDOWN_TIMEOUT`: how long a stop waits for running jobs (10s). */
  readonly shutdownTimeoutMs: number
  /** `SHUTDOWN_GRACE`: how long an aborted job has to return (1s). */
  readonly shutdownGraceMs: number
  /** `JOB_TIMEOUT_MS`: an attempt's time limit when a job sets none. */
  readonly jobTimeoutMs: number
  /** `RETRY_BASE_MS`: the backoff before the first retry (1000). */
  readonly retryBaseMs: number
  /** `RETRY_MAX_MS`: the longest backoff (60000; at least the base). */
  readonly retryMaxMs: number
  /** `STORE`: `postgres` (default) or `memory` (keeps nothing). */
  readonly store: 'postgres' | 'memory'
  /** `DATABASE_URL`: a PostgreSQL server; unset, an embedded one. */
  readonly databaseUrl: string | undefined
  /** `DATA_DIR`: where the embedded server keeps its data (`.data`). */
  readonly dataDir: string
  /** `DATABASE_POOL_SIZE`: connections (default workers + 4). */
  readonly databasePoolSize: number
  /** `JOB_LEASE`: how long a claim lasts unless renewed (30s). */
  readonly leaseMs: number
  /** `RESCUE_INTERVAL`: time between the rescuer's passes (5s). */
  readonly rescueIntervalMs: number
  /** `POLL_INTERVAL`: the longest an idle fetcher sleeps (1s). */
  readonly pollIntervalMs: number
  /**
   * `WAKEUPS`: `notify` (default) listens for PostgreSQL notifications as
   * well as polling; `poll` only polls (for a pooler that drops LISTEN).
   */
  readonly wakeups: 'notify' | 'poll'
  /** `CPU_POOL_SIZE`: threads for CPU-bound jobs (cores - 1, at least 1). */
  readonly cpuPoolSize: number
  /** `LOG_LEVEL`: the least severe level logged (`info`). */
  readonly logLevel: LogLevel
  /** The HTTP server's limits and tokens (`HTTP_*`, `API_TOKEN`...). */
  readonly http: HttpConfig
}
// #endregion config

// #region http-config
/** The HTTP server's limits, each set on purpose, and its tokens. */
export interface HttpConfig {
  /** `HTTP_HEADERS_TIMEOUT`: time for a request's headers (10s). */
  readonly headersTimeoutMs: number
  /** `HTTP_REQUEST_TIMEOUT`: time for a whole request, body too (30s). */
  readonly requestTimeoutMs: number
  /** `HTTP_KEEP_ALIVE_TIMEOUT`: how long an idle connection stays (5s). */
  readonly keepAliveTimeoutMs: number
  /** `HTTP_MAX_CONNECTIONS`: connections held at once (256). */
  readonly maxConnections: number
  /** `API_TOKEN`: the bearer token of every route but health (none). */
  readonly apiToken: string | undefined
  /** `METRICS_TOKEN`: `GET /metrics`'s own token (none). */
  readonly metricsToken: string | undefined
}
// #endregion http-config

/** Thrown for a bad environment variable; the message names it. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`)
  }
}

interface IntegerSpec {
  readonly name: string
  readonly fallback: number
  readonly min: number
  readonly max: number
}

// #region variables
/** Each integer variable: its default and its bounds (inclusive). */
export const INTEGER_VARIABLES = {
  port: { name: 'PORT', fallback: 8080, min: 0, max: 65_535 },
  workerCount: { name: 'WORKER_COUNT', fallback: 10, min: 1, max: 1_000 },
  // Waiting jobs are rows, not memory: the original's 100 (a channel's
  // capacity) would refuse jobs a table holds easily.
  queueCapacity: {
    name: 'JOB_QUEUE_CAPACITY',
    fallback: 10_000,
    min: 1,
    max: 1_000_000,
  },
  retention: { name: 'JOB_RETENTION', fallback: 10_000, min: 1, max: 10_000_000 },
  jobTimeoutMs: {
    name: 'JOB_TIMEOUT_MS',
    fallback: DEFAULT_TIMEOUT_MS,
    min: 1,
    max: MAX_TIMEOUT_MS,
  },
  retryBaseMs: { name: 'RETRY_BASE_MS', fallback: 1_000, min: 1, max: 3_600_000 },
  retryMaxMs: { name: 'RETRY_MAX_MS', fallback: 60_000, min: 1, max: 86_400_000 },
  cpuPoolSize: CPU_POOL_SIZE,
} as const satisfies Record<string, IntegerSpec>

/** `SHUTDOWN_TIMEOUT`'s default and bounds, in milliseconds. */
export const SHUTDOWN_TIMEOUT = {
  name: 'SHUTDOWN_TIMEOUT',
  fallback: 10_000,
  min: 0,
  max: 600_000,
} as const

/** `SHUTDOWN_GRACE`'s default and bounds, in milliseconds. */
export const SHUTDOWN_GRACE = {
  name: 'SHUTDOWN_GRACE',
  fallback: 1_000,
  min: 0,
  max: 60_000,
} as const

/** `JOB_LEASE`'s default and bounds, in milliseconds. */
export const JOB_LEASE = {
  name: 'JOB_LEASE',
  fallback: 30_000,
  min: 100,
  max: 3_600_000,
} as const

/** `RESCUE_INTERVAL`'s default and bounds, in milliseconds. */
export const RESCUE_INTERVAL = {
  name: 'RESCUE_INTERVAL',
  fallback: 5_000,
  min: 10,
  max: 600_000,
} as const

/** `POLL_INTERVAL`'s default and bounds, in milliseconds. */
export const POLL_INTERVAL = {
  name: 'POLL_INTERVAL',
  fallback: 1_000,
  min: 10,
  max: 600_000,
} as const
// #endregion variables

// #region http-variables
/** `HTTP_HEADERS_TIMEOUT`'s default and bounds, in milliseconds. */
export const HTTP_HEADERS_TIMEOUT = {
  name: 'HTTP_HEADERS_TIMEOUT',
  fallback: 10_000,
  min: 10,
  max: 600_000,
} as const

/** `HTTP_REQUEST_TIMEOUT`: at least the headers' timeout. */
export const HTTP_REQUEST_TIMEOUT = {
  name: 'HTTP_REQUEST_TIMEOUT',
  fallback: 30_000,
  min: 10,
  max: 600_000,
} as const

/** `HTTP_KEEP_ALIVE_TIMEOUT`'s default and bounds, in milliseconds. */
export const HTTP_KEEP_ALIVE_TIMEOUT = {
  name: 'HTTP_KEEP_ALIVE_TIMEOUT',
  fallback: 5_000,
  min: 10,
  max: 600_000,
} as const

/** `HTTP_MAX_CONNECTIONS`: past it, a new connection is closed at once. */
export const HTTP_MAX_CONNECTIONS = {
  name: 'HTTP_MAX_CONNECTIONS',
  fallback: 256,
  min: 1,
  max: 100_000,
} as const
// #endregion http-variables

/** The shortest token `API_TOKEN` and `METRICS_TOKEN` accept. */
export const MIN_TOKEN_LENGTH = 16

/** The environment as `process.env` gives it. */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * Reads and validates the configuration from `env`. An unset or empty
 * variable takes its default. Throws `ConfigError` for the first bad one.
 */
export function loadConfig(env: Env): Config {
  const integer = (spec: IntegerSpec) => readInteger(env, spec)
  const retryBaseMs = integer(INTEGER_VARIABLES.retryBaseMs)
  const retryMaxMs = integer(INTEGER_VARIABLES.retryMaxMs)
  if (retryMaxMs < retryBaseMs) {
    throw new ConfigError(
      'RETRY_MAX_MS',
      `expected at least RETRY_BASE_MS (${retryBaseMs}), got "${retryMaxMs}"`,
    )
  }
  const workerCount = integer(INTEGER_VARIABLES.workerCount)
  return {
    host: readHost(env),
    port: integer(INTEGER_VARIABLES.port),
    workerCount,
    queueCapacity: integer(INTEGER_VARIABLES.queueCapacity),
    retention: integer(INTEGER_VARIABLES.retention),
    shutdownTimeoutMs: readDuration(env, SHUTDOWN_TIMEOUT),
    shutdownGraceMs: readDuration(env, SHUTDOWN_GRACE),
    jobTimeoutMs: integer(INTEGER_VARIABLES.jobTimeoutMs),
    retryBaseMs,
    retryMaxMs,
    store: readStore(env),
    databaseUrl: readDatabaseUrl(env),
    dataDir: env['DATA_DIR']?.trim() || '.data',
    databasePoolSize: readInteger(env, {
      name: 'DATABASE_POOL_SIZE',
      fallback: workerCount + 4,
      min: 2,
      max: 10_000,
    }),
    leaseMs: readDuration(env, JOB_LEASE),
    rescueIntervalMs: readDuration(env, RESCUE_INTERVAL),
    pollIntervalMs: readDuration(env, POLL_INTERVAL),
    wakeups: readWakeups(env),
    cpuPoolSize: integer(INTEGER_VARIABLES.cpuPoolSize),
    logLevel: readLogLevel(env),
    http: readHttpConfig(env),
  }
}

function readStore(env: Env): 'postgres' | 'memory' {
  const raw = env['STORE']?.trim()
  if (raw === undefined || raw === '' || raw === 'postgres') return 'postgres'
  if (raw === 'memory') return 'memory'
  throw new ConfigError('STORE', `expected postgres or memory, got "${raw}"`)
}

function readWakeups(env: Env): 'notify' | 'poll' {
  const raw = env['WAKEUPS']?.trim()
  if (raw === undefined || raw === '' || raw === 'notify') return 'notify'
  if (raw === 'poll') return 'poll'
  throw new ConfigError('WAKEUPS', `expected notify or poll, got "${raw}"`)
}

function readDatabaseUrl(env: Env): string | undefined {
  const raw = env['DATABASE_URL']?.trim()
  if (raw === undefined || raw === '') return undefined
  // Never echo the value: it may hold a password.
  let protocol: string
  try {
    protocol = new URL(raw).protocol
  } catch {
    throw new ConfigError('DATABASE_URL', 'expected a postgres:// URL')
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', 'expected a postgres:// URL')
  }
  return raw
}

function readHttpConfig(env: Env): HttpConfig {
  const headersTimeoutMs = readDuration(env, HTTP_HEADERS_TIMEOUT)
  const requestTimeoutMs = readDuration(env, HTTP_REQUEST_TIMEOUT)
  // Node refuses a headers timeout longer than the request's.
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError(
      'HTTP_REQUEST_TIMEOUT',
      `expected at least HTTP_HEADERS_TIMEOUT (${headersTimeoutMs}ms), ` +
        `got "${env['HTTP_REQUEST_TIMEOUT']?.trim()}"`,
    )
  }
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: readDuration(env, HTTP_KEEP_ALIVE_TIMEOUT),
    maxConnections: readInteger(env, HTTP_MAX_CONNECTIONS),
    apiToken: readToken(env, 'API_TOKEN'),
    metricsToken: readToken(env, 'METRICS_TOKEN'),
  }
}

// RFC 6750's token characters; `Authorization: Bearer` carries them as is.
const TOKEN = /^[A-Za-z0-9._~+/-]+=*$/

function readToken(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return undefined
  if (raw.length < MIN_TOKEN_LENGTH || raw.length > 1_024 || !TOKEN.test(raw)) {
    // The message never repeats a token: it is a secret.
    throw new ConfigError(
      name,
      `expected ${MIN_TOKEN_LENGTH} to 1024 characters from ` +
        'A-Z a-z 0-9 . _ ~ + / - (try: openssl rand -hex 32)',
    )
  }
  return raw
}

function readLogLevel(env: Env): LogLevel {
  const raw = env['LOG_LEVEL']?.trim()
  if (raw === undefined || raw === '') return 'info'
  if (!isLogLevel(raw)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `expected one of ${LOG_LEVELS.join(', ')}, got "${raw}"`,
    )
  }
  return raw
}

// #region read-integer
function readInteger(env: Env, spec: IntegerSpec): number {
  const raw = env[spec.name]?.trim()
  if (raw === undefined || raw === '') return spec.fallback
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!(value >= spec.min && value <= spec.max)) {
    throw new ConfigError(
      spec.name,
      `expected an integer from ${spec.min} to ${spec.max}, got "${raw}"`,
    )
  }
  return value
}
// #endregion read-integer

// #region read-duration
// A duration carries its unit: "10" could be seconds or milliseconds,
// and a wrong guess is off by a thousand.
const DURATION = /^(\d+)(ms|s|m)$/
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000 } as const

function readDuration(env: Env, spec: IntegerSpec): number {
  const raw = env[spec.name]?.trim()
  if (raw === undefined || raw === '') return spec.fallback
  const match = DURATION.exec(raw)
  const value = match
    ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
    : Number.NaN
  if (!(value >= spec.min && value <= spec.max)) {
    throw new ConfigError(
      spec.name,
      `expected a duration such as 500ms, 10s or 1m, ` +
        `from ${spec.min}ms to ${spec.max / 60_000}m, got "${raw}"`,
    )
  }
  return value
}
// #endregion read-duration

function readHost(env: Env): string {
  const raw = env['HOST']?.trim()
  // Loopback unless told otherwise: an open port is a choice, not a default.
  if (raw === undefined || raw === '') return '127.0.0.1'
  if (!/^[\w.:-]+$/.test(raw)) {
    throw new ConfigError('HOST', `expected a host name or address, got "${raw}"`)
  }
  return raw
}
