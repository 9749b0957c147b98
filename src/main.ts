/**
 * The process entry (`node dist/main.js` after `npm run build`, or
 * `npm start`): environment → config → service, then wait for SIGINT or
 * SIGTERM and stop in order. Logs are JSON lines on stdout (pino, at
 * `LOG_LEVEL`); the one with `"event":"listening"` carries the URL.
 *
 * Exit codes: 0 after a clean stop, 1 when the start failed or the stop
 * abandoned work, 2 for a bad configuration. A second signal during the
 * stop skips to aborting the running jobs.
 */
import { once } from 'node:events'
import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { Logger } from 'pino'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { createLogger } from './jobs/log.ts'
import { createService, type ServiceOptions } from './service.ts'

// #region log
/**
 * One JSON line per event, with `event` naming it: the same shape as the
 * job events' lines, so one query finds them all.
 */
function logEvent(
  logger: Logger,
  event: string,
  fields = {},
  level: 'info' | 'error' = 'info',
): void {
  logger[level]({ event, ...fields }, event.replaceAll('_', ' '))
}
// #endregion log

// #region main
/**
 * Runs the service until a signal stops it; resolves with the exit code.
 * `options` are for a test's own job types (see `ServiceOptions`).
 */
export async function main(options: ServiceOptions = {}): Promise<number> {
  // #region config-error
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    // Before any logger exists: one plain line, for a person to read.
    process.stderr.write(`invalid configuration: ${error.message}\n`)
    return 2
  }
  // #endregion config-error
  const logger = createLogger({ level: config.logLevel })
  const log = (event: string, fields = {}) => logEvent(logger, event, fields)
  const service = createService(config, { logger, ...options })
  // #region signals
  // The first SIGINT or SIGTERM starts a graceful stop; a second one
  // hurries it: running jobs are aborted at once (Kubernetes sends
  // SIGTERM, then SIGKILL after its grace period; a person presses
  // Ctrl-C twice).
  const stop = new AbortController()
  const hurry = new AbortController()
  const onSignal = (name: NodeJS.Signals) => {
    if (!stop.signal.aborted) return stop.abort(name)
    log('hurrying', { signal: name })
    hurry.abort(name)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // #endregion signals
  try {
    await service.start()
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    logEvent(logger, 'start_failed', { error: message }, 'error')
    await service.stop()
    return 1
  }
  // A service that cannot go on (its workers keep crashing) stops too.
  const onFailed = () => stop.abort('service failed')
  service.failed.addEventListener('abort', onFailed, { once: true })
  if (!stop.signal.aborted) await once(stop.signal, 'abort')
  service.failed.removeEventListener('abort', onFailed)
  log('stopping', { signal: stop.signal.reason })
  // Logs each phase, then one `shutdown_report` line.
  const report = await service.stop({ hurry: hurry.signal })
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  return service.failed.aborted ? 1 : report.exit_code
}
// #endregion main

/** Runs `main` as the process: its result becomes the exit code. */
export function runProcess(options: ServiceOptions = {}): void {
  main(options).then(
    (code) => {
      process.exitCode = code
      // A clean stop lets the event loop empty. After an unclean one, a
      // handler that ignored its signal may hold the loop open: exit
      // anyway (logs are written synchronously, so nothing is cut off).
      if (code !== 0) process.exit(code)
    },
    (error: unknown) => {
      const text = error instanceof Error ? error.stack : String(error)
      process.stderr.write(`${text}\n`)
      process.exit(1)
    },
  )
}

/** Whether this file is the program run, not a module another imports. */
function isProgram(): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  return pathToFileURL(realpathSync(entry)).href === import.meta.url
}

// A test's entry imports this file to add its own job types, then runs.
if (isProgram()) runProcess()
