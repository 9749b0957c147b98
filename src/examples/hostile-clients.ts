/**
 * A real service, with small limits so that they show at once, and the
 * clients that misbehave: one that stops halfway through its headers,
 * two slow ones holding the only two places when a quick one comes, a
 * body too large, a request with no token, and a filter in array form.
 * Each line is what a client received.
 */
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { loadConfig } from '../config.ts'
import { createService } from '../service.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  const token = 'example-token-0123456789'
  const service = createService(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      STORE: 'memory',
      HTTP_HEADERS_TIMEOUT: '500ms',
      HTTP_MAX_CONNECTIONS: '2',
      API_TOKEN: token,
    }),
  )
  const url = await service.start()
  const port = Number(new URL(url).port)
  const auth = { Authorization: `Bearer ${token}` }
  try {
    // #region clients
    const half = await raw(port, 'GET /health HTTP/1.1\r\nHost: x\r\n')
    out(`half-sent headers → ${firstLine(await half.closed)}`)
    out(`  ${bodyOf(await half.closed)}`)

    const slow = [await raw(port, 'GET /'), await raw(port, 'GET /')]
    const quick = await raw(port, HEALTH)
    out(`a quick third, past 2 → ${firstLine(await quick.closed)}`)
    const oldest = await slow[0]!.closed
    out(`  the oldest slow one: closed, ${oldest.length} bytes`)
    slow[1]!.socket.destroy()
    await untilServed(url)

    const big = await fetch(`${url}/jobs`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'sleep', payload: 'x'.repeat(2 ** 21) }),
    })
    const closing = header(big, 'connection')
    out(`2 MiB body → ${big.status}, Connection: ${closing}`)
    await big.arrayBuffer()

    const bare = await fetch(`${url}/jobs`, { headers: CLOSE })
    out(`no token → ${bare.status} ${await bare.text()}`)
    out(`  WWW-Authenticate: ${header(bare, 'www-authenticate')}`)

    const list = await fetch(`${url}/jobs?status[]=pending`, {
      headers: { ...auth, ...CLOSE },
    })
    const { error } = (await list.json()) as { error: string }
    out(`?status[]=pending → ${list.status} ${error.split(';')[0]}`)
    // #endregion clients
  } finally {
    await service.stop()
  }
}

/** A raw connection that has sent `bytes`; `closed` gives what it got. */
async function raw(port: number, bytes: string) {
  const socket: Socket = connect(port, '127.0.0.1')
  let received = ''
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk))
  socket.on('error', () => {}) // a refused connection is reset
  const closed = once(socket, 'close').then(() => received)
  await Promise.race([once(socket, 'connect'), closed])
  if (bytes !== '' && !socket.destroyed) socket.write(bytes)
  return { socket, closed }
}

/** A whole request, on a connection that closes after its answer. */
const HEALTH = 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'

/** Keeps no idle connection open to count against the cap. */
const CLOSE = { Connection: 'close' }

/** Waits until the server, which closes held connections a little after
 * their clients do, serves a new one. */
async function untilServed(url: string): Promise<void> {
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const answer = await fetch(`${url}/health`, { headers: CLOSE }).then(
      (res) => res.arrayBuffer(),
      () => undefined,
    )
    if (answer !== undefined) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error('the server serves no new connection')
}

const firstLine = (answer: string) => answer.split('\r\n')[0]

const bodyOf = (answer: string) => answer.split('\r\n\r\n')[1]
const header = (res: Response, name: string) => res.headers.get(name)

runIfMain(import.meta.url, main)
