import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.ts'
import { defaultCpuPoolSize } from '../src/jobs/cpu/pool.ts'

describe('loadConfig', () => {
  it('configuration-defaults: with no variables set, the defaults apply', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 8080,
      workerCount: 10,
      queueCapacity: 10_000,
      retention: 10_000,
      shutdownTimeoutMs: 10_000,
      shutdownGraceMs: 1_000,
      jobTimeoutMs: 120_000,
      retryBaseMs: 1_000,
      retryMaxMs: 60_000,
      cpuPoolSize: defaultCpuPoolSize(),
      logLevel: 'info',
      store: 'postgres',
      databaseUrl: undefined,
      dataDir: '.data',
      databasePoolSize: 14,
      leaseMs: 30_000,
      rescueIntervalMs: 5_000,
      pollIntervalMs: 1_000,
      wakeups: 'notify',
      http: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 5_000,
        maxConnections: 256,
        apiToken: undefined,
        metricsToken: undefined,
      },
    })
  })

  it('configuration-empty-is-unset: an empty variable, or one of spaces, takes its default', () => {
    const defaults = loadConfig({})
    expect(loadConfig({ WORKER_COUNT: '', SHUTDOWN_TIMEOUT: '   ', API_TOKEN: '' })).toEqual(defaults)
    expect(loadConfig({ LOG_LEVEL: ' ', HOST: '', HTTP_MAX_CONNECTIONS: '\t' })).toEqual(defaults)
  })

  it.each([
    ['1500ms', 1_500],
    ['10s', 10_000],
    ['2m', 120_000],
    [' 0ms ', 0],
  ])('configuration-durations: SHUTDOWN_TIMEOUT=%s is read as %i ms', (value, ms) => {
    expect(loadConfig({ SHUTDOWN_TIMEOUT: value }).shutdownTimeoutMs).toBe(ms)
  })

  it.each(['10', '1.5s', '10h', '10 s', 's', '-1s', '1e3ms'])(
    'configuration-durations: SHUTDOWN_TIMEOUT=%s is refused: a duration is a whole number and a unit',
    (value) => {
      expect(() => loadConfig({ SHUTDOWN_TIMEOUT: value })).toThrow(
        `SHUTDOWN_TIMEOUT: expected a duration such as 500ms, 10s or 1m, from 0ms to 10m, got "${value.trim()}"`,
      )
    },
  )

  it('reads every variable, and treats an empty one as unset', () => {
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      WORKER_COUNT: ' 4 ',
      JOB_QUEUE_CAPACITY: '1000',
      JOB_RETENTION: '',
      SHUTDOWN_TIMEOUT: '1500ms',
      SHUTDOWN_GRACE: '250ms',
      JOB_TIMEOUT_MS: '500',
      RETRY_BASE_MS: '100',
      RETRY_MAX_MS: '100',
      CPU_POOL_SIZE: '3',
      LOG_LEVEL: 'debug',
      STORE: 'memory',
      DATABASE_URL: 'postgres://u:secret@db.example:5432/jobs',
      DATA_DIR: '/var/lib/workstream',
      DATABASE_POOL_SIZE: '20',
      JOB_LEASE: '10s',
      RESCUE_INTERVAL: '1s',
      POLL_INTERVAL: '250ms',
      WAKEUPS: 'poll',
      HTTP_HEADERS_TIMEOUT: '2s',
      HTTP_REQUEST_TIMEOUT: '1m',
      HTTP_KEEP_ALIVE_TIMEOUT: '65s',
      HTTP_MAX_CONNECTIONS: '1000',
      API_TOKEN: 'a'.repeat(16),
      METRICS_TOKEN: ' 0123456789abcdef0123 ',
    })
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 0,
      workerCount: 4,
      queueCapacity: 1000,
      retention: 10_000,
      shutdownTimeoutMs: 1500,
      shutdownGraceMs: 250,
      jobTimeoutMs: 500,
      retryBaseMs: 100,
      retryMaxMs: 100,
      cpuPoolSize: 3,
      logLevel: 'debug',
      store: 'memory',
      databaseUrl: 'postgres://u:secret@db.example:5432/jobs',
      dataDir: '/var/lib/workstream',
      databasePoolSize: 20,
      leaseMs: 10_000,
      rescueIntervalMs: 1_000,
      pollIntervalMs: 250,
      wakeups: 'poll',
      http: {
        headersTimeoutMs: 2_000,
        requestTimeoutMs: 60_000,
        keepAliveTimeoutMs: 65_000,
        maxConnections: 1000,
        apiToken: 'a'.repeat(16),
        metricsToken: '0123456789abcdef0123',
      },
    })
    expect(loadConfig({ SHUTDOWN_TIMEOUT: '2m' }).shutdownTimeoutMs).toBe(120_000)
  })

  const bad: [string, string, string][] = [
    ['PORT', 'abc', 'PORT: expected an integer from 0 to 65535, got "abc"'],
    ['PORT', '65536', 'PORT: expected an integer from 0 to 65535, got "65536"'],
    ['PORT', '80.5', 'PORT: expected an integer from 0 to 65535, got "80.5"'],
    ['WORKER_COUNT', '0', 'WORKER_COUNT: expected an integer from 1 to 1000, got "0"'],
    ['WORKER_COUNT', '-3', 'WORKER_COUNT: expected an integer from 1 to 1000, got "-3"'],
    ['JOB_QUEUE_CAPACITY', '1e3', 'JOB_QUEUE_CAPACITY: expected an integer from 1 to 1000000, got "1e3"'],
    ['JOB_RETENTION', '0', 'JOB_RETENTION: expected an integer from 1 to 10000000, got "0"'],
    ['SHUTDOWN_TIMEOUT', '10', 'SHUTDOWN_TIMEOUT: expected a duration such as 500ms, 10s or 1m, from 0ms to 10m, got "10"'],
    ['SHUTDOWN_GRACE', '2m', 'SHUTDOWN_GRACE: expected a duration such as 500ms, 10s or 1m, from 0ms to 1m, got "2m"'],
    ['HOST', 'a b', 'HOST: expected a host name or address, got "a b"'],
    ['JOB_TIMEOUT_MS', '0', 'JOB_TIMEOUT_MS: expected an integer from 1 to 3600000, got "0"'],
    ['RETRY_BASE_MS', '1s', 'RETRY_BASE_MS: expected an integer from 1 to 3600000, got "1s"'],
    ['RETRY_MAX_MS', '500', 'RETRY_MAX_MS: expected at least RETRY_BASE_MS (1000), got "500"'],
    ['JOB_LEASE', '50ms', 'JOB_LEASE: expected a duration such as 500ms, 10s or 1m, from 100ms to 60m, got "50ms"'],
    ['RESCUE_INTERVAL', '5ms', 'RESCUE_INTERVAL: expected a duration such as 500ms, 10s or 1m, from 10ms to 10m, got "5ms"'],
    ['POLL_INTERVAL', '1h', 'POLL_INTERVAL: expected a duration such as 500ms, 10s or 1m, from 10ms to 10m, got "1h"'],
    ['STORE', 'redis', 'STORE: expected postgres or memory, got "redis"'],
    ['WAKEUPS', 'push', 'WAKEUPS: expected notify or poll, got "push"'],
    ['DATABASE_POOL_SIZE', '1', 'DATABASE_POOL_SIZE: expected an integer from 2 to 10000, got "1"'],
    ['CPU_POOL_SIZE', '0', 'CPU_POOL_SIZE: expected an integer from 1 to 256, got "0"'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    ['HTTP_HEADERS_TIMEOUT', '5', 'HTTP_HEADERS_TIMEOUT: expected a duration such as 500ms, 10s or 1m, from 10ms to 10m, got "5"'],
    ['HTTP_REQUEST_TIMEOUT', '11m', 'HTTP_REQUEST_TIMEOUT: expected a duration such as 500ms, 10s or 1m, from 10ms to 10m, got "11m"'],
    ['HTTP_REQUEST_TIMEOUT', '5s', 'HTTP_REQUEST_TIMEOUT: expected at least HTTP_HEADERS_TIMEOUT (10000ms), got "5s"'],
    ['HTTP_KEEP_ALIVE_TIMEOUT', '0s', 'HTTP_KEEP_ALIVE_TIMEOUT: expected a duration such as 500ms, 10s or 1m, from 10ms to 10m, got "0s"'],
    ['HTTP_MAX_CONNECTIONS', '0', 'HTTP_MAX_CONNECTIONS: expected an integer from 1 to 100000, got "0"'],
  ]
  it('a bad DATABASE_URL is refused without echoing it (it may hold a password)', () => {
    for (const value of ['not a url', 'mysql://u:hunter2@h/db']) {
      const load = () => loadConfig({ DATABASE_URL: value })
      expect(load).toThrow('DATABASE_URL: expected a postgres:// URL')
      expect(load).not.toThrow(/hunter2|not a url/)
    }
  })

  const tokenRule =
    'expected 16 to 1024 characters from A-Z a-z 0-9 . _ ~ + / - (try: openssl rand -hex 32)'
  it.each([
    ['API_TOKEN', 'short'],
    ['API_TOKEN', 'has a space in it!'],
    ['METRICS_TOKEN', 'x'.repeat(1025)],
    ['METRICS_TOKEN', 'quote"quote"quote"quote'],
  ])('configuration-bad-token: %s=%s is refused, and the message does not repeat it', (name, value) => {
    const thrown = (() => {
      try {
        loadConfig({ [name]: value })
      } catch (error) {
        return error
      }
    })()
    expect(thrown).toBeInstanceOf(ConfigError)
    // The whole message: a secret is never echoed into a log.
    expect((thrown as Error).message).toBe(`${name}: ${tokenRule}`)
  })

  it.each(bad)(
    'configuration-bad-value: %s=%s is refused with a message naming the variable',
    (name, value, message) => {
      const load = () => loadConfig({ [name]: value })
      expect(load).toThrow(ConfigError)
      expect(load).toThrow(message)
    },
  )
})
