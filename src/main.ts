/**
 * The process entry (`npm start`): environment → config → service, then
 * wait for SIGINT or SIGTERM and stop in order. Logs are JSON lines on
 * stdout (pino, at `LOG_LEVEL`); the one with `"event":"listening"`
 * carries the URL.
 *
 * Exit codes: 0 after a clean stop, 1 when the start or the stop failed,
 * 2 for a bad configuration. A second signal during the stop is not
 * caught: the default action ends the process at once.
 */
import { once } from 'node:events'
import type { Logger } from 'pino'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { createLogger } from './jobs/log.ts'
import { createService } from './service.ts'

// #region log
/**
 * One JSON line per event, with `event` naming it: the same shape as the
 * job events' lines, so one query finds them all.
 */
function logEvent(logger: Logger, event: string, fields = {}): void {
  logger.info({ event, ...fields }, event.replaceAll('_', ' '))
}
// #endregion log

// #region main
async function main(): Promise<number> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`invalid configuration: ${error.message}\n`)
    return 2
  }
  const logger = createLogger({ level: config.logLevel })
  const log = (event: string, fields = {}) => logEvent(logger, event, fields)
  const service = createService(config, { logger })
  const signals = new AbortController()
  const onSignal = (name: NodeJS.Signals) => signals.abort(name)
  // Once a stop has begun, a second signal is not ours: its default
  // action ends the process.
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  signals.signal.addEventListener('abort', () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  })
  try {
    await service.start()
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    log('start_failed', { error: message })
    await service.stop()
    return 1
  }
  await once(signals.signal, 'abort')
  log('stopping', { signal: signals.signal.reason })
  const report = await service.stop()
  log('stopped', { ...report })
  return report.abandoned ? 1 : 0
}
// #endregion main

main().then(
  (code) => {
    // Set the code and let the event loop empty: exiting by hand could
    // cut off output still being written.
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exitCode = 1
  },
)
