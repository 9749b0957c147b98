/**
 * Slow and connection-holding clients against the real service process,
 * measured from outside: the figures the hardening chapter quotes. Not a
 * benchmark of `npm run bench`, and not a test: it takes about a minute
 * and loads the machine. Run it on a quiet machine:
 *
 *   npx tsx bench/attacks/slow-clients.ts [--main path/to/src/main.ts]
 *
 * `--main` runs another checkout's entry (say, the code before the
 * hardening) with the same attacks. Prints one JSON object.
 *
 * - `slow_bodies`: CONNECTIONS (3000) clients each start a 1 MiB body and
 *   send it in 64 KiB pieces, one a second; a client whose connection is
 *   closed unanswered opens another (RECONNECT=0 turns that off). Reports
 *   the service's peak RSS (VmHWM) against its RSS before, the most file
 *   descriptors it held (sockets, mostly), the connections closed
 *   unanswered, and `GET /health` from a fresh connection every 250 ms
 *   meanwhile, from a process of its own (answered, refused, timed out,
 *   latency from when each was due).
 * - `close_ms`: how long the service holds one connection that sends
 *   nothing, half its headers, or its headers and half a body, before it
 *   closes it (capped at CLOSE_CAP_MS, 70 s).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { runChild, sourceFile } from '../lib/child.ts'
import { startService, type ServiceProcess } from '../lib/service.ts'

const CONNECTIONS = Number(process.env['CONNECTIONS'] ?? 3000)
const ATTACK_MS = Number(process.env['ATTACK_MS'] ?? 20_000)
const CLOSE_CAP_MS = Number(process.env['CLOSE_CAP_MS'] ?? 70_000)
const RECONNECT = process.env['RECONNECT'] !== '0'
const BODY = 1024 * 1024
const PIECE = 64 * 1024

const mainArg = process.argv.indexOf('--main')
const main = mainArg > 0 ? process.argv[mainArg + 1]! : sourceFile('main')

function kib(field: 'VmRSS' | 'VmHWM', pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN)
}

const mib = (kibs: number) => Math.round(kibs / 1024)

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length

async function slowBodies(service: ServiceProcess) {
  const { port, hostname } = new URL(service.url)
  const pid = service.process.pid!
  const before = kib('VmRSS', pid)
  const fdsBefore = fds(pid)
  const sockets = new Set<Socket>()
  let connected = 0
  let closedUnanswered = 0
  let answered = 0
  let attacking = true
  const head =
    'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    `Content-Length: ${BODY}\r\n\r\n`
  const piece = Buffer.alloc(PIECE, 0x20)
  const attacker = (): void => {
    const socket = connect(Number(port), hostname)
    let got = false
    socket.on('connect', () => {
      connected += 1
      socket.write(head)
    })
    socket.on('data', () => (got = true))
    socket.on('error', () => {})
    socket.on('close', () => {
      sockets.delete(socket)
      if (got) answered += 1
      else closedUnanswered += 1
      if (attacking && RECONNECT) setImmediate(attacker)
    })
    sockets.add(socket)
  }
  for (let i = 0; i < CONNECTIONS; i++) attacker()
  const drip = setInterval(() => {
    for (const socket of sockets) if (socket.writable) socket.write(piece)
  }, 1_000)
  // The probe runs in a process of its own, as a load balancer would.
  const probe = runChild<Record<string, unknown>>(
    fileURLToPath(new URL('./health-probe.ts', import.meta.url)),
    {
      args: [
        JSON.stringify({
          url: service.url,
          intervalMs: 250,
          durationMs: ATTACK_MS,
          timeoutMs: 2_000,
        }),
      ],
    },
  )
  let fdsMost = 0
  const sampler = setInterval(() => (fdsMost = Math.max(fdsMost, fds(pid))), 100)
  const health = await probe
  clearInterval(sampler)
  attacking = false
  clearInterval(drip)
  const peak = kib('VmHWM', pid)
  for (const socket of sockets) socket.destroy()
  return {
    connections: CONNECTIONS,
    reconnect: RECONNECT,
    connected,
    fds_before: fdsBefore,
    fds_at_most: fdsMost,
    closed_unanswered: closedUnanswered,
    answered,
    rss_before_mib: mib(before),
    rss_peak_mib: mib(peak),
    health,
  }
}

/** Ms until the service closes a connection that sent `bytes`, then nothing. */
async function closeMs(service: ServiceProcess, bytes: string): Promise<number | string> {
  const { port, hostname } = new URL(service.url)
  const socket = connect(Number(port), hostname)
  socket.on('error', () => {})
  socket.resume()
  await new Promise((resolve) => socket.once('connect', resolve))
  const start = performance.now()
  if (bytes !== '') socket.write(bytes)
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now() - start)),
  )
  const cap = new Promise<string>((resolve) =>
    setTimeout(() => resolve(`> ${CLOSE_CAP_MS}`), CLOSE_CAP_MS).unref(),
  )
  const result = await Promise.race([closed, cap])
  socket.destroy()
  return typeof result === 'number' ? Math.round(result) : result
}

const env = { LOG_LEVEL: 'info', WORKER_COUNT: '10' }
const attacked = await startService(env, main)
const slow = await slowBodies(attacked)
await attacked.stop()

const timed = await startService(env, main)
const [nothing, headers, body] = await Promise.all([
  closeMs(timed, ''),
  closeMs(timed, 'GET /health HTTP/1.1\r\nHost: x\r\n'),
  closeMs(
    timed,
    'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
      'Content-Length: 1000\r\n\r\n{"type":',
  ),
])
await timed.stop()

console.log(
  JSON.stringify(
    {
      main,
      node: process.version,
      slow_bodies: slow,
      close_ms: { nothing_sent: nothing, half_headers: headers, half_body: body },
    },
    null,
    2,
  ),
)
