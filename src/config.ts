/**
 * The service's configuration, read from the environment once, at start.
 * Every variable has a default and bounds; a value out of bounds is an
 * error that names the variable, so a typo stops the start instead of
 * running with a surprise.
 */

// #region config
/** The validated configuration `createService` takes. */
export interface Config {
  /** `HOST`: the interface to listen on (default `0.0.0.0`, all). */
  readonly host: string
  /** `PORT`: the TCP port (default 8080; 0 picks a free one). */
  readonly port: number
  /** `WORKER_COUNT`: workers sharing the queue (default 10). */
  readonly workerCount: number
  /** `JOB_QUEUE_CAPACITY`: job ids the queue holds (default 100). */
  readonly queueCapacity: number
  /** `JOB_RETENTION`: finished jobs the store keeps (default 10,000). */
  readonly retention: number
  /** `SHUTDOWN_TIMEOUT`: how long a stop waits for running jobs (10s). */
  readonly shutdownTimeoutMs: number
}
// #endregion config

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
  queueCapacity: {
    name: 'JOB_QUEUE_CAPACITY',
    fallback: 100,
    min: 1,
    max: 1_000_000,
  },
  retention: { name: 'JOB_RETENTION', fallback: 10_000, min: 1, max: 10_000_000 },
} as const satisfies Record<string, IntegerSpec>

/** `SHUTDOWN_TIMEOUT`'s default and bounds, in milliseconds. */
export const SHUTDOWN_TIMEOUT = {
  name: 'SHUTDOWN_TIMEOUT',
  fallback: 10_000,
  min: 0,
  max: 600_000,
} as const
// #endregion variables

/** The environment as `process.env` gives it. */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * Reads and validates the configuration from `env`. An unset or empty
 * variable takes its default. Throws `ConfigError` for the first bad one.
 */
export function loadConfig(env: Env): Config {
  const integer = (spec: IntegerSpec) => readInteger(env, spec)
  return {
    host: readHost(env),
    port: integer(INTEGER_VARIABLES.port),
    workerCount: integer(INTEGER_VARIABLES.workerCount),
    queueCapacity: integer(INTEGER_VARIABLES.queueCapacity),
    retention: integer(INTEGER_VARIABLES.retention),
    shutdownTimeoutMs: readDuration(env, SHUTDOWN_TIMEOUT),
  }
}

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

function readHost(env: Env): string {
  const raw = env['HOST']?.trim()
  if (raw === undefined || raw === '') return '0.0.0.0'
  if (!/^[\w.:-]+$/.test(raw)) {
    throw new ConfigError('HOST', `expected a host name or address, got "${raw}"`)
  }
  return raw
}
