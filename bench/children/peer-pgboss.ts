/**
 * pg-boss 10 with a `noop` queue and `concurrency` workers: each `work()`
 * call is one worker that fetches up to `batchSize` jobs, runs them, and
 * then waits out the rest of its polling interval (here its shortest, 0.5
 * s; it has no LISTEN) before it fetches again. Its defaults otherwise (a
 * pool of 10 connections, maintenance on).
 *   node peer-pgboss.js '{"url": "...", "concurrency": 10, "batchSize": 1}'
 * Prints `{"ready": true}` once its workers poll; stops on SIGTERM.
 */
import PgBoss from 'pg-boss'

const { url, concurrency, batchSize } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string
  concurrency: number
  batchSize: number
}
const boss = new PgBoss({ connectionString: url })
boss.on('error', (error) => console.error(error))
await boss.start()
await boss.createQueue('noop')
for (let i = 0; i < concurrency; i++) {
  await boss.work('noop', { batchSize, pollingIntervalSeconds: 0.5 }, async () => {})
}
console.log(JSON.stringify({ ready: true }))
process.once('SIGTERM', () => void boss.stop({ graceful: true, wait: true }))
