/**
 * The load generator, in its own process: autocannon against a URL for a
 * while, recording every response's latency itself (autocannon's own
 * histogram rounds to whole milliseconds). Prints one JSON line.
 *
 *   node load.js '<json options>'
 *   options: url, connections, durationMs, method?, body?, rate? (req/s)
 */
import autocannon from 'autocannon'

interface LoadOptions {
  readonly url: string
  readonly connections: number
  readonly durationMs: number
  readonly method?: 'GET' | 'POST'
  readonly body?: string
  readonly rate?: number
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions
const latencies: number[] = []
let non2xx = 0

const instance = autocannon({
  url: options.url,
  connections: options.connections,
  duration: options.durationMs / 1000,
  method: options.method ?? 'GET',
  ...(options.body === undefined
    ? {}
    : { body: options.body, headers: { 'content-type': 'application/json' } }),
  ...(options.rate === undefined ? {} : { overallRate: options.rate }),
})
instance.on('response', (_client, statusCode: number, _bytes, ms: number) => {
  if (statusCode >= 200 && statusCode < 300) latencies.push(ms)
  else non2xx++
})
const result = await instance
const seconds = (result.finish.getTime() - result.start.getTime()) / 1000
latencies.sort((a, b) => a - b)
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN
console.log(
  JSON.stringify({
    ok: latencies.length,
    non2xx,
    errors: result.errors + result.timeouts,
    seconds,
    rps: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
  }),
)
