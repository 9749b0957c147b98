/**
 * The `node:http` server in front of the app, with every limit set on
 * purpose. Node's defaults suit a server that trusts its clients: a body
 * may take five minutes to arrive, headers a minute (checked every 30 s),
 * and connections are held without number. Here each has a bound, and
 * what Node answers on its own (`400`, `408`, `431`) is JSON like every
 * other answer.
 *
 * The server also does what must happen before the app sees a request:
 * it gives the request its id, marks every answer `nosniff`, and checks
 * the bearer token.
 */
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { getRequestListener } from '@hono/node-server'
import type { Hono } from 'hono'
import type { Logger } from 'pino'
import { checkBearer, tokenFor, type Tokens } from './auth.ts'
import {
  assignRequestId,
  REQUEST_ID_HEADER,
  requestIdFrom,
} from './request-id.ts'

// #region limits
/** The server's limits (`HTTP_*` in the configuration) and tokens. */
export interface HttpLimits extends Tokens {
  /** From a connection's first byte to the end of its headers. */
  readonly headersTimeoutMs: number
  /** From a request's first byte to the end of its body. */
  readonly requestTimeoutMs: number
  /** How long an idle keep-alive connection is kept. */
  readonly keepAliveTimeoutMs: number
  /** Connections held at once; one more is closed as it opens. */
  readonly maxConnections: number
}
// #endregion limits

/** What the server reports to (default: nothing). */
export interface HttpHooks {
  /** Where its log lines go: one JSON line per event. */
  readonly logger?: Logger | undefined
}

/** Headers every answer carries, whoever writes it. */
const ALWAYS: readonly [string, string][] = [
  ['X-Content-Type-Options', 'nosniff'],
]

// #region create
/** A server for `app` that enforces `limits`; call `listen` to start. */
export function createHttpServer(
  app: Hono,
  limits: HttpLimits,
  hooks: HttpHooks = {},
): Server {
  const log = logTo(hooks.logger)
  const sockets = { answering: new WeakMap(), closedByUs: new WeakSet() }
  const hono = getRequestListener(app.fetch)
  const listener = serve(hono, limits, sockets, log)
  const options = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the two timeouts only this often (30 s by default).
    connectionsCheckingInterval: checkInterval(limits),
  }
  const server = createServer(options, listener)
  capConnections(server, limits.maxConnections, sockets, log)
  server.on('clientError', (error: Error, socket: Duplex) =>
    answerClientError(error, socket, sockets, log),
  )
  return server
}
// #endregion create

/** Where the server's lines go: a level, an event, its fields. */
export type Log = (
  level: 'info' | 'warn',
  event: string,
  fields: Record<string, unknown>,
) => void

function logTo(logger: Logger | undefined): Log {
  if (logger === undefined) return () => {}
  return (level, event, fields) =>
    logger[level]({ event, ...fields }, event.replaceAll('_', ' '))
}

/** A tenth of the shorter timeout, from 10 ms to 1 s. */
function checkInterval(limits: HttpLimits): number {
  const shorter = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)
  return Math.min(1_000, Math.max(10, Math.floor(shorter / 10)))
}

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown

/** What the server knows of each connection. */
interface Sockets {
  /** The answer a connection's current request is getting. */
  readonly answering: WeakMap<Duplex, ServerResponse>
  /** Connections the server closed (a timeout, the cap), not the client. */
  readonly closedByUs: WeakSet<Duplex>
}

// #region serve
/** Each request: its id and headers, the token, then the app. */
function serve(
  app: Listener,
  limits: HttpLimits,
  sockets: Sockets,
  log: Log,
): Listener {
  return (req, res) => {
    const requestId = assignRequestId(req)
    res.setHeader(REQUEST_ID_HEADER, requestId)
    for (const [name, value] of ALWAYS) res.setHeader(name, value)
    const path = (req.url ?? '').split('?', 1)[0] ?? ''
    const fields = { request_id: requestId, method: req.method, path }
    const aborted = () => log('info', 'request_aborted', fields)
    watchAnswer(req, res, sockets, aborted)
    const token = tokenFor(path, limits)
    if (token === undefined) return app(req, res)
    const failure = checkBearer(req.headers.authorization, token)
    if (failure === undefined) return app(req, res)
    log('warn', 'request_unauthorized', { ...fields, reason: failure })
    refuse(req, res, failure)
  }
}
// #endregion serve

/**
 * Notes which answer a connection is getting (for `clientError`), and
 * calls `onAborted` if the connection closes before that answer is sent:
 * the client left (a timeout's close is logged as `client_error`).
 */
function watchAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  { answering, closedByUs }: Sockets,
  onAborted: () => void,
): void {
  answering.set(req.socket, res)
  // `on`, not `once`: an answer closes once, and `once` wraps each time.
  res.on('close', () => {
    answering.delete(req.socket)
    if (!res.writableFinished && !closedByUs.has(req.socket)) onAborted()
  })
}

// #region cap
/**
 * Holds at most `max` connections. One more closes the oldest that is
 * not being answered (its request still arriving, or idle between
 * requests), so that slow clients cannot keep a quick one out; if every
 * connection is being answered, the new one is closed instead.
 */
function capConnections(
  server: Server,
  max: number,
  sockets: Sockets,
  log: Log,
): void {
  const open = new Set<Socket>()
  const shed = countShed(max, log)
  server.on('connection', (socket: Socket) => {
    open.add(socket)
    socket.once('close', () => open.delete(socket))
    if (open.size <= max) return
    // The oldest first; the new one is last, and found if none other is.
    const victim = [...open].find((s) => !answered(s, sockets)) ?? socket
    sockets.closedByUs.add(victim)
    victim.destroy()
    shed(victim === socket ? 'refused' : 'evicted')
  })
}
// #endregion cap

/** Whether a whole request has arrived on `socket` and is being answered. */
function answered(socket: Socket, { answering }: Sockets): boolean {
  const res = answering.get(socket)
  return res !== undefined && (res.req.complete || res.headersSent)
}

// #region refuse
/** `401` with the challenge RFC 6750 asks for. */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  failure: 'missing' | 'invalid',
): void {
  const challenge =
    failure === 'missing'
      ? 'Bearer realm="workstream"'
      : 'Bearer realm="workstream", error="invalid_token"'
  const body = JSON.stringify({ error: `${failure} bearer token` })
  // A body left unread would be the next request's start: close instead.
  if (!req.complete) res.setHeader('Connection', 'close')
  res.writeHead(401, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'WWW-Authenticate': challenge,
  })
  res.end(body)
}
// #endregion refuse

// #region client-errors
/** Codes that mean the client closed its side mid-request. */
const CLIENT_LEFT = ['ECONNRESET', 'EPIPE', 'HPE_INVALID_EOF_STATE']

/** Node's own errors, by code: the status and what to tell the client. */
const CLIENT_ERRORS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request not received in time'],
  HPE_HEADER_OVERFLOW: [431, 'request headers too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'chunk extensions too large'],
}
// #endregion client-errors

// #region client-error
/**
 * Answers what Node's parser or its timeouts refused, in JSON, then
 * closes the connection: after a parse error, nothing more on it can be
 * trusted to be a request.
 */
function answerClientError(
  error: Error & { code?: string },
  socket: Duplex,
  { answering, closedByUs }: Sockets,
  log: Log,
): void {
  const code = error.code ?? ''
  // Gone, or an answer has begun: a second one would corrupt it.
  const begun = answering.get(socket)?.headersSent === true
  if (CLIENT_LEFT.includes(code) || !socket.writable || begun) {
    socket.destroy()
    return
  }
  const known = CLIENT_ERRORS[code]
  const [status, message] = known ?? [400, 'malformed HTTP request']
  closedByUs.add(socket)
  const requestId = requestIdFrom(undefined)
  log('info', 'client_error', { request_id: requestId, status, code })
  socket.end(rawAnswer(status, { error: message }, requestId))
  // Half-open until the client closes its side: close it once written.
  socket.once('finish', () => socket.destroy())
}
// #endregion client-error

/** A whole HTTP/1.1 answer, as bytes for a socket, that closes it. */
function rawAnswer(status: number, body: object, requestId: string): string {
  const text = JSON.stringify(body)
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Connection: close',
    `${REQUEST_ID_HEADER}: ${requestId}`,
    ...ALWAYS.map(([name, value]) => `${name}: ${value}`),
  ]
  return `${head.join('\r\n')}\r\n\r\n${text}`
}

/**
 * Logs the connections the cap closed: the first at once, then at most
 * one line a second with the counts since the last, so that a flood of
 * connections cannot flood the log. (Exported for its test, with `clock`.)
 */
export function countShed(
  maxConnections: number,
  log: Log,
  clock: () => number = () => performance.now(),
): (kind: 'evicted' | 'refused') => void {
  const counts = { evicted: 0, refused: 0 }
  let lastLine = -Infinity
  return (kind) => {
    counts[kind] += 1
    const now = clock()
    if (now - lastLine < 1_000) return
    log('warn', 'connections_shed', { max_connections: maxConnections, ...counts })
    counts.evicted = 0
    counts.refused = 0
    lastLine = now
  }
}
