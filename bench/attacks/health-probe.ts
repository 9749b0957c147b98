/**
 * `GET /health` as a load balancer's probe sends it, from its own process
 * (so that the attacking process's load does not slow the probe): every
 * `intervalMs` for `durationMs`, each on a new connection, whether or not
 * the earlier ones have answered, each timed from when it was due and
 * given up after `timeoutMs`. Prints one JSON line.
 *
 *   npx tsx health-probe.ts '<json: url, intervalMs, durationMs, timeoutMs>'
 */
import { request } from 'node:http'

interface Options {
  readonly url: string
  readonly intervalMs: number
  readonly durationMs: number
  readonly timeoutMs: number
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options
type Outcome = number | 'refused' | 'timeout'

function probe(due: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(`${options.url}/health`, { agent: false }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve(res.statusCode === 200 ? performance.now() - due : 'refused'),
      )
    })
    req.setTimeout(options.timeoutMs, () => {
      resolve('timeout')
      req.destroy()
    })
    req.on('error', () => resolve('refused'))
    req.end()
  })
}

const start = performance.now()
const outcomes: Promise<Outcome>[] = []
for (let i = 0; i < Math.floor(options.durationMs / options.intervalMs); i++) {
  const due = start + i * options.intervalMs
  const wait = due - performance.now()
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  outcomes.push(probe(due))
}
const all = await Promise.all(outcomes)
const ms = all.filter((o) => typeof o === 'number').sort((a, b) => a - b)
const at = (q: number) =>
  ms.length === 0 ? null : Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!)
console.log(
  JSON.stringify({
    sent: all.length,
    answered: ms.length,
    refused: all.filter((o) => o === 'refused').length,
    timed_out: all.filter((o) => o === 'timeout').length,
    p50_ms: at(0.5),
    p99_ms: at(0.99),
    max_ms: at(1),
  }),
)
