/**
 * An open-loop latency probe, in its own process: sends `GET url` every
 * `intervalMs` for `durationMs` whether or not earlier ones have answered
 * (each on a free keep-alive socket), and times each from when it was due
 * to be sent, so a server that stalls cannot hide its stall by holding
 * the probe back (autocannon's connections wait for their answer: they
 * would send fewer requests during a stall and miss most of it). Then
 * waits for the answers still due and prints one JSON line.
 *
 *   node probe.js '<json: url, intervalMs, durationMs>'
 */
import { Agent, get } from 'node:http'

interface ProbeOptions {
  readonly url: string
  readonly intervalMs: number
  readonly durationMs: number
}

const { url, intervalMs, durationMs } = JSON.parse(process.argv[2] ?? '{}') as ProbeOptions
const agent = new Agent({ keepAlive: true })
const latencies: number[] = []
let failed = 0
const answers: Promise<void>[] = []

function probe(due: number): Promise<void> {
  return new Promise((resolve) => {
    const request = get(url, { agent }, (response) => {
      response.resume()
      response.on('end', () => {
        if (response.statusCode === 200) latencies.push(performance.now() - due)
        else failed++
        resolve()
      })
    })
    request.on('error', () => {
      failed++
      resolve()
    })
  })
}

const start = performance.now()
const count = Math.floor(durationMs / intervalMs)
for (let i = 0; i < count; i++) {
  const due = start + i * intervalMs
  const wait = due - performance.now()
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  answers.push(probe(due))
}
await Promise.all(answers)
agent.destroy()
latencies.sort((a, b) => a - b)
const at = (q: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? -1
console.log(
  JSON.stringify({ sent: count, ok: latencies.length, failed, p50: at(0.5), p99: at(0.99), max: at(1) }),
)
