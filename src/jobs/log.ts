/**
 * Structured logs of the job lifecycle: one JSON line per event, written
 * by a pino logger that is passed in (there is no global logger: a test
 * gives its own, and two services never share one).
 *
 * What we log: the event's name, ids, type, attempt, durations, and an
 * error's message. What we do not: a job's payload (it may hold secrets or
 * personal data; the id finds it in the store), and stack traces (a
 * failed job is the job's failure, not a bug in the service; its message
 * is what an operator acts on).
 */
import { pino, type DestinationStream, type Level, type Logger } from 'pino'
import type { JobEvent, JobEventName, JobEvents } from './events.ts'

/** The values `LOG_LEVEL` may take, most severe first. */
export const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const

/** A value of `LOG_LEVEL`. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Whether `value` is a `LOG_LEVEL` pino knows. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value)
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** `LOG_LEVEL`: the least severe level written (default `info`). */
  readonly level?: LogLevel
  /** Where lines go (default stdout); a test passes one that keeps them. */
  readonly destination?: DestinationStream
}

/**
 * pino's `isoTime` (`,"time":"<RFC 3339>"`), remembered for the last
 * millisecond: a busy service writes several lines within one, and
 * formatting the date was a large share of writing a line.
 */
function isoTime(): string {
  const ms = Date.now()
  if (ms !== lastTime.ms) {
    lastTime = { ms, text: `,"time":"${new Date(ms).toISOString()}"` }
  }
  return lastTime.text
}
let lastTime = { ms: Number.NaN, text: '' }

// #region create-logger
/**
 * A pino logger writing one JSON object per line: `level` as a word
 * (`"info"`), `time` in RFC 3339, no `pid` or `hostname` (whatever
 * collects the logs knows where they came from).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { level = 'info', destination } = options
  const settings = {
    level,
    base: undefined,
    timestamp: isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  }
  return destination === undefined
    ? pino(settings)
    : pino(settings, destination)
}
// #endregion create-logger

// #region levels
/**
 * How loud each event is. Every step of a job's normal path is `info`,
 * so that the default level tells a job's whole story; an attempt that
 * fails, times out, loses its lease or is cut short is `warn`; `error` is
 * for a job that failed for good, an outcome that could not be written,
 * and a worker that crashed.
 */
export const EVENT_LEVELS: { readonly [N in JobEventName]: Level } = {
  job_created: 'info',
  job_started: 'info',
  job_completed: 'info',
  job_failed: 'warn', // `error` when final: see levelOf
  job_retried: 'info',
  job_canceled: 'info',
  job_timed_out: 'warn',
  job_interrupted: 'warn',
  job_released: 'info',
  job_rescued: 'warn',
  job_lease_lost: 'warn',
  job_result_discarded: 'warn',
  job_finish_failed: 'error',
  worker_started: 'info',
  worker_stopped: 'info',
  worker_crashed: 'error',
}
// #endregion levels

/** The level `event` is logged at. */
export function levelOf(event: JobEvent): Level {
  if (event.event === 'job_failed' && event.final) return 'error'
  return EVENT_LEVELS[event.event]
}

/** An event's name in words (`job created`), made once per name. */
const MESSAGES = new Map<string, string>()
function wordsOf(name: string): string {
  let message = MESSAGES.get(name)
  if (message === undefined) {
    message = name.replaceAll('_', ' ')
    MESSAGES.set(name, message)
  }
  return message
}

// #region attach
/**
 * Logs every event of `events` with `logger`, one line each: the event's
 * fields as they are (`event`, `job_id`, `worker_id`, `attempt`,
 * `duration_ms`...), and the event's name, in words, as the message.
 * Returns the function that stops logging.
 */
export function attachLogger(
  events: JobEvents,
  logger: Logger,
): () => void {
  return events.subscribe((event) => {
    logger[levelOf(event)](event, wordsOf(event.event))
  })
}
// #endregion attach
