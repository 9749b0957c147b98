/**
 * Wake-ups across instances: one dedicated connection per instance that
 * `LISTEN`s. The inserting transaction's trigger sends a notification when
 * a job is created (`workstream_jobs`), and a cancel of a running job sends
 * its id (`workstream_cancel`), so an idle instance starts a new job within
 * milliseconds wherever it was posted, and a job is canceled where it runs.
 *
 * Notifications are a hint, never the record: one that is lost (the
 * connection dropped, a pooler in between) costs a poll interval, because
 * the fetcher polls anyway and the heartbeat carries cancels. A lost
 * connection is reconnected with backoff.
 */
import pg from 'pg'

/** The channels the store notifies on. */
export const NOTIFY_CHANNELS = {
  jobs: 'workstream_jobs',
  cancel: 'workstream_cancel',
} as const

/** What the listener needs. */
export interface ListenerOptions {
  readonly connectionString: string
  /** A job was created somewhere: wake the fetcher. */
  readonly onJob: () => void
  /** A running job was asked to cancel: abort it if it runs here. */
  readonly onCancel: (id: string) => void
  /** Aborting it closes the connection and ends the listener. */
  readonly signal: AbortSignal
  /** Hears each (re)connection, and each loss with its error. */
  readonly onConnected?: (() => void) | undefined
  readonly onLost?: ((error: unknown) => void) | undefined
}

// #region listen
/**
 * Listens until `signal` aborts, reconnecting after a loss with backoff
 * (100 ms, doubling up to 5 s). Resolves once stopped; never rejects.
 */
export async function runListener(options: ListenerOptions): Promise<void> {
  const { signal } = options
  let backoffMs = 100
  while (!signal.aborted) {
    const { connected, error } = await listenOnce(options)
    if (signal.aborted) return
    options.onLost?.(error)
    // A connection that worked starts the backoff over.
    backoffMs = connected ? 100 : Math.min(backoffMs * 2, 5_000)
    await pause(backoffMs, signal)
  }
}
// #endregion listen

/**
 * One connection: connect, LISTEN, then wait until it ends or `signal`
 * aborts. Resolves with whether it got as far as listening, and why it
 * ended.
 */
async function listenOnce(
  options: ListenerOptions,
): Promise<{ connected: boolean; error: unknown }> {
  const { signal } = options
  const client = new pg.Client({
    connectionString: options.connectionString,
    application_name: 'workstream-listener',
    connectionTimeoutMillis: 5_000,
  })
  let onAbort = () => {}
  const ended = new Promise<unknown>((resolve) => {
    client.on('error', (error) => resolve(error))
    client.on('end', () => resolve(new Error('listener connection ended')))
    onAbort = () => resolve(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  client.on('notification', (message) => {
    if (message.channel === NOTIFY_CHANNELS.jobs) options.onJob()
    if (message.channel === NOTIFY_CHANNELS.cancel && message.payload) {
      options.onCancel(message.payload)
    }
  })
  try {
    await client.connect()
    await client.query(`LISTEN ${NOTIFY_CHANNELS.jobs}`)
    await client.query(`LISTEN ${NOTIFY_CHANNELS.cancel}`)
  } catch (error) {
    signal.removeEventListener('abort', onAbort)
    await client.end().catch(() => {})
    return { connected: false, error }
  }
  options.onConnected?.()
  // Whatever was created while we were not listening: look now.
  options.onJob()
  const error = await ended
  signal.removeEventListener('abort', onAbort)
  await client.end().catch(() => {})
  return { connected: true, error }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
