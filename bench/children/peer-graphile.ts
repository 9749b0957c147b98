/**
 * graphile-worker 0.16 with a `noop` task and `concurrency` workers, its
 * defaults otherwise (LISTEN/NOTIFY plus a 2 s poll, its own pool of 10
 * connections, its info log of every completed task on stdout).
 *   node peer-graphile.js '{"url": "...", "concurrency": 10}'
 * Prints `{"ready": true}` once it runs (its schema installed); stops on
 * SIGTERM.
 */
import { run } from 'graphile-worker'

const { url, concurrency } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string
  concurrency: number
}
const runner = await run({
  connectionString: url,
  concurrency,
  noHandleSignals: true,
  crontab: '', // no cron file to look for
  taskList: { noop: async () => {} },
})
console.log(JSON.stringify({ ready: true }))
process.once('SIGTERM', () => void runner.stop())
await runner.promise
