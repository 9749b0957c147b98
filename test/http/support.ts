// Helpers for testing the HTTP server as a hostile client would meet it:
// a real `node:http` server on a free port, raw `net` sockets that send
// exactly the bytes a test chooses, and the server's log lines.
import { once } from 'node:events'
import type { Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import type { Hono } from 'hono'
import { createApp, type AppDeps } from '../../src/http/app.ts'
import { createHttpServer, type HttpLimits } from '../../src/http/server.ts'
import { HandlerRegistry, sleepJob } from '../../src/jobs/handlers.ts'
import { createLogger } from '../../src/jobs/log.ts'
import { RunningJobs } from '../../src/jobs/running.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'

/** Limits small enough that a test of them is quick. */
export const QUICK: HttpLimits = {
  headersTimeoutMs: 2_000,
  requestTimeoutMs: 4_000,
  keepAliveTimeoutMs: 2_000,
  maxConnections: 100,
}

export type LogLine = { level: string; event: string } & Record<string, unknown>

/** An app with a memory store and two job types: `sleep` and `noop`. */
export function testApp(overrides: Partial<AppDeps> = {}) {
  const store = new MemoryStore()
  const handlers = new HandlerRegistry()
    .register('sleep', sleepJob)
    .register('noop', { run: async () => {} })
  const deps: AppDeps = { store, handlers, running: new RunningJobs(), ...overrides }
  return { ...deps, app: createApp(deps) }
}

export interface Running {
  readonly server: Server
  readonly port: number
  readonly url: string
  /** Every line the server (and the app's error hook) logged, parsed. */
  readonly lines: LogLine[]
  /** Every connection the server accepted. */
  readonly connections: Socket[]
  /** Stops the server and closes every connection it holds. */
  close(): Promise<void>
}

/** Serves `app` with `limits` on a free port of 127.0.0.1. */
export async function serve(
  app: Hono,
  limits: Partial<HttpLimits> = {},
): Promise<Running> {
  const lines: LogLine[] = []
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  })
  const server = createHttpServer(app, { ...QUICK, ...limits }, { logger })
  const connections: Socket[] = []
  server.on('connection', (socket: Socket) => connections.push(socket))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    connections,
    async close() {
      const closed = once(server, 'close')
      server.close()
      server.closeAllConnections()
      await closed
    },
  }
}

/** A logger for an app's `onUnexpectedError`, writing into `lines`. */
export function appLogger(lines: LogLine[]) {
  return createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  })
}

export interface RawClient {
  readonly socket: Socket
  /** Everything the server has sent so far. */
  received(): string
  /** Resolves when the server has sent at least one whole answer. */
  answer(): Promise<Answer>
  /** Resolves when the connection has closed, whoever closed it. */
  readonly closed: Promise<void>
  /** The error the socket saw, if any (a refused connection's reset). */
  error(): Error | undefined
}

/** Opens a raw connection; resolves once it is connected. */
export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1')
  let data = ''
  let failure: Error | undefined
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => (data += chunk))
  socket.on('error', (error) => (failure = error))
  // Not `once()`: it would reject on the reset of a closed connection.
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), closed])
  return {
    socket,
    received: () => data,
    error: () => failure,
    closed,
    async answer() {
      while (parseAnswer(data) === undefined) {
        if (socket.destroyed || socket.readableEnded) break
        await Promise.race([new Promise((resolve) => socket.once('data', resolve)), closed])
      }
      const answer = parseAnswer(data)
      if (answer === undefined) throw new Error(`no whole answer in ${JSON.stringify(data)}`)
      return answer
    },
  }
}

export interface Answer {
  readonly status: number
  /** Header names in lower case. */
  readonly headers: Record<string, string>
  readonly body: string
}

/** The first whole HTTP answer in `text` (with a `Content-Length`), if any. */
export function parseAnswer(text: string): Answer | undefined {
  const end = text.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const [statusLine = '', ...fields] = text.slice(0, end).split('\r\n')
  const headers: Record<string, string> = {}
  for (const field of fields) {
    const colon = field.indexOf(':')
    headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim()
  }
  const length = Number(headers['content-length'] ?? 0)
  const body = text.slice(end + 4)
  if (Buffer.byteLength(body) < length) return undefined
  return { status: Number(statusLine.split(' ')[1]), headers, body: body.slice(0, length) }
}

/** The number of connections the server holds now. */
export function openConnections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  )
}
