// The HTTP server against slow, careless and hostile clients: raw sockets
// send exactly the bytes a test chooses, and each test waits for what the
// server does (an answer, a close, a log line), never for a fixed time.
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { countShed } from '../../src/http/server.ts'
import { MAX_BODY_BYTES } from '../../src/http/validation.ts'
import { JobEvents } from '../../src/jobs/events.ts'
import { createJobMetrics } from '../../src/jobs/metrics.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'
import { deferred } from '../support/promises.ts'
import {
  appLogger,
  openConnections,
  rawClient,
  serve,
  testApp,
  type LogLine,
  type Running,
} from './support.ts'

let running: Running | undefined

afterEach(async () => {
  await running?.close()
  running = undefined
})

async function started(...args: Parameters<typeof serve>) {
  running = await serve(...args)
  return running
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const postHead = (length: number, extra = '') =>
  'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
  `${extra}Content-Length: ${length}\r\n\r\n`

describe('timeouts', () => {
  it('hostile-slow-client-closed: half-sent headers are answered 408 at the headers timeout, a half-sent body at the request timeout, each in JSON, and closed', async () => {
    const { port, server } = await started(testApp().app, {
      headersTimeoutMs: 100,
      requestTimeoutMs: 1_500,
    })
    const closedAt: string[] = []
    const headers = await rawClient(port)
    headers.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n')
    const body = await rawClient(port)
    body.socket.write(postHead(100) + '{"type":')
    await Promise.all([
      headers.closed.then(() => closedAt.push('headers')),
      body.closed.then(() => closedAt.push('body')),
    ])
    // The shorter limit ended the first: a wide margin (100 ms vs 1.5 s).
    expect(closedAt).toEqual(['headers', 'body'])
    for (const client of [headers, body]) {
      const answer = await client.answer()
      expect(answer.status).toBe(408)
      expect(JSON.parse(answer.body)).toEqual({ error: 'request not received in time' })
      expect(answer.headers).toMatchObject({
        'content-type': 'application/json',
        connection: 'close',
        'x-content-type-options': 'nosniff',
      })
    }
    expect(await openConnections(server)).toBe(0)
  })

  it('hostile-keep-alive-closed: an idle keep-alive connection is closed by the server after its keep-alive timeout', async () => {
    const { port, server } = await started(testApp().app, { keepAliveTimeoutMs: 50 })
    const client = await rawClient(port)
    client.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    const answer = await client.answer()
    expect(answer.status).toBe(200)
    expect(answer.headers['connection']).toBe('keep-alive')
    // The client sends nothing more and never closes: the server does.
    await once(client.socket, 'end')
    await client.closed
    expect(await openConnections(server)).toBe(0)
  })
})

describe('the connection cap', () => {
  it('hostile-connection-cap: past HTTP_MAX_CONNECTIONS, a new connection closes the oldest one still sending its request, and is served', async () => {
    const run = await started(testApp().app, { maxConnections: 2 })
    const slow = [await rawClient(run.port), await rawClient(run.port)]
    for (const client of slow) client.socket.write('GET /health HTTP/1.1\r\n')
    while (run.connections.length < 2) await once(run.server, 'connection')

    const quick = await rawClient(run.port)
    quick.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    expect((await quick.answer()).status).toBe(200)
    // The oldest slow one made room, unanswered; the other still waits.
    await slow[0]!.closed
    expect(slow[0]!.received()).toBe('')
    expect(slow[1]!.socket.destroyed).toBe(false)
    expect(run.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        event: 'connections_shed',
        max_connections: 2,
        evicted: 1,
        refused: 0,
      }),
    )
    expect(run.lines.map((line) => line.event)).not.toContain('request_aborted')
    for (const client of [slow[1]!, quick]) client.socket.destroy()
  })

  it('hostile-connection-cap: the log line counting closed connections is written at most once a second', () => {
    const lines: unknown[][] = []
    let now = 0
    const shed = countShed(2, (...line) => void lines.push(line), () => now)
    shed('evicted') // the first at once
    now = 400
    shed('evicted')
    shed('refused')
    now = 999
    shed('evicted')
    expect(lines).toHaveLength(1)
    now = 1_000
    shed('refused') // a second on: one line for all since the last
    expect(lines).toEqual([
      ['warn', 'connections_shed', { max_connections: 2, evicted: 1, refused: 0 }],
      ['warn', 'connections_shed', { max_connections: 2, evicted: 2, refused: 2 }],
    ])
  })

  it('hostile-connection-cap-busy: when every connection is being answered, a new one is closed unanswered instead', async () => {
    const release = deferred()
    const app = new Hono().get('/wait', async (c) => {
      await release.promise
      return c.json({ waited: true })
    })
    const run = await started(app, { maxConnections: 2 })
    const busy = [await rawClient(run.port), await rawClient(run.port)]
    for (const client of busy) {
      const request = once(run.server, 'request')
      client.socket.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n')
      await request
    }
    const extra = await rawClient(run.port)
    extra.socket.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n')
    await extra.closed
    expect(extra.received()).toBe('')
    release.resolve()
    for (const client of busy) expect((await client.answer()).status).toBe(200)
    expect(run.lines).toContainEqual(
      expect.objectContaining({ event: 'connections_shed', evicted: 0, refused: 1 }),
    )
    for (const client of busy) client.socket.destroy()
  })
})

describe('answers before the body is read', () => {
  it('hostile-413-closes: a 413 says Connection: close and closes its connection, and the client\'s next request works', async () => {
    const run = await started(testApp().app)
    for (const mib of [2, 8]) {
      const posted = once(run.server, 'request')
      const res = await fetch(`${run.url}/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'noop', payload: 'x'.repeat(mib * MAX_BODY_BYTES) }),
      })
      const [request] = (await posted) as [IncomingMessage]
      expect(res.status).toBe(413)
      expect(res.headers.get('connection')).toBe('close')
      expect(await res.json()).toEqual({ error: `body larger than ${MAX_BODY_BYTES} bytes` })
      // Node's fetch pools connections: the next request must not be
      // sent on the one the server is closing.
      const next = await fetch(`${run.url}/health`)
      expect([next.status, await next.json()]).toEqual([200, { status: 'ok' }])
      if (!request.socket.destroyed) await once(request.socket, 'close')
    }
  })

  it('creating-too-large-unread: a body whose Content-Length is over the limit is refused before any of it is sent', async () => {
    const { app, store } = testApp()
    const { port } = await started(app)
    const client = await rawClient(port)
    // The headers promise 10 MiB; not one byte of the body is sent.
    client.socket.write(postHead(10 * MAX_BODY_BYTES))
    const answer = await client.answer()
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.body)).toEqual({ error: `body larger than ${MAX_BODY_BYTES} bytes` })
    expect(answer.headers['connection']).toBe('close')
    await client.closed
    expect((await store.list({ limit: 1000 })).jobs).toEqual([])
  })
})

describe("Node's own answers", () => {
  it.each([
    ['a request line that is not HTTP', 400, 'malformed HTTP request', 'GARBAGE\r\n\r\n'],
    [
      'headers over 16 KiB',
      431,
      'request headers too large',
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ],
  ])('hostile-client-error-json: %s is answered %i in JSON, and closed', async (_name, status, error, bytes) => {
    const { port, lines } = await started(testApp().app)
    const client = await rawClient(port)
    client.socket.write(bytes)
    const answer = await client.answer()
    expect(answer.status).toBe(status)
    expect(JSON.parse(answer.body)).toEqual({ error })
    expect(answer.headers).toMatchObject({
      'content-type': 'application/json',
      connection: 'close',
      'x-content-type-options': 'nosniff',
    })
    expect(answer.headers['x-request-id']).toMatch(UUID)
    await client.closed
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        event: 'client_error',
        status,
        request_id: answer.headers['x-request-id'],
      }),
    )
  })
})

describe('every answer', () => {
  it('hostile-nosniff: every answer, from a route, an error, the token check or Node itself, says X-Content-Type-Options: nosniff', async () => {
    const store = new MemoryStore()
    store.list = async () => {
      throw new Error('broken')
    }
    const { app } = testApp({ store })
    const { port, url } = await started(app, { apiToken: 'a-token-of-16-chars' })
    const auth = { Authorization: 'Bearer a-token-of-16-chars' }
    const json = { ...auth, 'Content-Type': 'application/json' }
    const answers = [
      await fetch(`${url}/health`),
      await fetch(`${url}/jobs`, { method: 'POST', headers: json, body: '{"type":"noop"}' }),
      await fetch(`${url}/jobs`, { method: 'POST', headers: json, body: '{' }),
      await fetch(`${url}/jobs`, { method: 'POST', headers: auth, body: '{}' }),
      await fetch(`${url}/jobs`, { headers: auth }),
      await fetch(`${url}/nope`, { headers: auth }),
      await fetch(`${url}/jobs`, { method: 'DELETE', headers: auth }),
      await fetch(`${url}/jobs`),
    ]
    expect(answers.map((res) => res.status)).toEqual([200, 201, 400, 415, 500, 404, 405, 401])
    for (const res of answers) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      await res.arrayBuffer()
    }
    const client = await rawClient(port)
    client.socket.write('NOT HTTP\r\n\r\n')
    expect((await client.answer()).headers['x-content-type-options']).toBe('nosniff')
  })
})

describe('the request id', () => {
  it.each([
    ['a sane id', 'is echoed', 'trace-42.a:b=c', true],
    ['a UUID', 'is echoed', '6f1c1b8e-2b6a-4d3c-9c55-0e1b5bbf1c11', true],
    ['an id with a space', 'is replaced by a new UUID', 'two words', false],
    ['an id with a quote', 'is replaced by a new UUID', 'a"b', false],
    ['an id 129 characters long', 'is replaced by a new UUID', 'x'.repeat(129), false],
  ])('hostile-request-id: %s %s', async (_name, _outcome, id, kept) => {
    const { url } = await started(testApp().app)
    const res = await fetch(`${url}/health`, { headers: { 'X-Request-Id': id } })
    await res.arrayBuffer()
    const echoed = res.headers.get('x-request-id')
    if (kept) expect(echoed).toBe(id)
    else expect(echoed).toMatch(UUID)
  })

  it('hostile-request-id-logged: the id is in every line the HTTP layer logs for the request', async () => {
    const lines: LogLine[] = []
    const logger = appLogger(lines)
    const store = new MemoryStore()
    store.list = async () => {
      throw new Error('broken')
    }
    const { app } = testApp({
      store,
      onUnexpectedError: (error, request) =>
        logger.error({ event: 'request_failed', ...request, error: String(error) }),
    })
    const run = await started(app, { metricsToken: 'metrics-token-0123456789' })
    const failed = await fetch(`${run.url}/jobs`, { headers: { 'X-Request-Id': 'req-failed' } })
    const refused = await fetch(`${run.url}/metrics`, { headers: { 'X-Request-Id': 'req-refused' } })
    expect([failed.status, refused.status]).toEqual([500, 401])
    await Promise.all([failed.arrayBuffer(), refused.arrayBuffer()])
    const client = await rawClient(run.port)
    client.socket.write(postHead(100, 'X-Request-Id: req-left\r\n') + '{"ty')
    while (!run.connections.some((socket) => socket.bytesRead > 0)) await once(run.server, 'request')
    client.socket.destroy()
    while (!run.lines.some((line) => line.event === 'request_aborted')) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    const all = [...lines, ...run.lines]
    expect(all.map((line) => [line.event, line.request_id])).toEqual(
      expect.arrayContaining([
        ['request_failed', 'req-failed'],
        ['request_unauthorized', 'req-refused'],
        ['request_aborted', 'req-left'],
      ]),
    )
  })

  it('hostile-disconnect-not-error: a client that leaves mid-body is one info line, with no stack, and nothing at error level', async () => {
    const lines: LogLine[] = []
    const logger = appLogger(lines)
    const { app, store } = testApp({
      onUnexpectedError: (error, request) =>
        logger.error({ event: 'request_failed', ...request, error: String(error) }),
    })
    const run = await started(app)
    const client = await rawClient(run.port)
    const request = once(run.server, 'request')
    client.socket.write(postHead(100) + '{"type":')
    await request
    client.socket.destroy()
    while (!run.lines.some((line) => line.event === 'request_aborted')) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    const all = [...lines, ...run.lines]
    expect(all.map((line) => [line.level, line.event])).toEqual([['info', 'request_aborted']])
    expect(JSON.stringify(all)).not.toMatch(/stack|    at /)
    expect((await store.list({ limit: 1000 })).jobs).toEqual([])
  })
})

describe('the bearer token', () => {
  const apiToken = 'api-token-0123456789'
  const metricsToken = 'metrics-token-0123456789'

  function withMetrics() {
    const events = new JobEvents()
    const metrics = createJobMetrics(events)
    return testApp({ events, metrics }).app
  }

  it('hostile-token-required: with API_TOKEN set, a route answers 401 with WWW-Authenticate unless the request carries the token', async () => {
    const { url } = await started(withMetrics(), { apiToken })
    const cases: [Record<string, string>, number, string | null][] = [
      [{}, 401, 'Bearer realm="workstream"'],
      [{ Authorization: `Bearer ${apiToken}x` }, 401, 'Bearer realm="workstream", error="invalid_token"'],
      [{ Authorization: 'Bearer short' }, 401, 'Bearer realm="workstream", error="invalid_token"'],
      [{ Authorization: `Bearer ${'x'.repeat(apiToken.length)}` }, 401, 'Bearer realm="workstream", error="invalid_token"'],
      [{ Authorization: `Basic ${apiToken}` }, 401, 'Bearer realm="workstream", error="invalid_token"'],
      [{ Authorization: `Bearer ${apiToken}` }, 200, null],
      [{ Authorization: `bearer  ${apiToken}` }, 200, null],
    ]
    for (const [headers, status, challenge] of cases) {
      const res = await fetch(`${url}/jobs`, { headers })
      expect([res.status, res.headers.get('www-authenticate')]).toEqual([status, challenge])
      if (status === 401) {
        expect(await res.json()).toEqual({
          error: headers['Authorization'] ? 'invalid bearer token' : 'missing bearer token',
        })
      } else await res.arrayBuffer()
    }
    // The metrics route takes the same token when it has none of its own.
    const metrics = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${apiToken}` } })
    expect(metrics.status).toBe(200)
    await metrics.arrayBuffer()
  })

  it('hostile-token-probes-open: /health and /ready need no token; /metrics takes METRICS_TOKEN, and only it', async () => {
    const { url } = await started(withMetrics(), { apiToken, metricsToken })
    const status = async (path: string, token?: string) => {
      const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {}
      const res = await fetch(`${url}${path}`, { headers })
      await res.arrayBuffer()
      return res.status
    }
    expect(await status('/health')).toBe(200)
    expect(await status('/ready')).toBe(200)
    expect(await status('/health/')).toBe(401)
    expect(await status('/metrics')).toBe(401)
    expect(await status('/metrics', apiToken)).toBe(401)
    expect(await status('/metrics', metricsToken)).toBe(200)
    expect(await status('/jobs', metricsToken)).toBe(401)
    expect(await status('/jobs', apiToken)).toBe(200)
  })

  it('hostile-token-body-unread: a refused POST has its body left unread and its connection closed', async () => {
    const { app, store } = testApp()
    const { port } = await started(app, { apiToken })
    const client = await rawClient(port)
    client.socket.write(postHead(10 * MAX_BODY_BYTES))
    const answer = await client.answer()
    expect(answer.status).toBe(401)
    expect(answer.headers['connection']).toBe('close')
    await client.closed
    expect((await store.list({ limit: 1000 })).jobs).toEqual([])
  })
})
