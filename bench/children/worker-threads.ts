/**
 * Memory per idle worker thread: starts `n` threads that each wait for a
 * message, and prints the resident memory they add, in bytes per thread.
 *
 *   node --expose-gc worker-threads.js <n>
 */
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { rssAfterGc } from './memory.ts'

const n = Number(process.argv[2] ?? 8)

// The smallest useful thread: it says it is ready, then waits for work.
const body = `
const { parentPort } = require('node:worker_threads')
parentPort.on('message', () => {})
parentPort.postMessage('ready')
`

const before = rssAfterGc()
const workers: Worker[] = []
for (let i = 0; i < n; i++) {
  const worker = new Worker(body, { eval: true })
  workers.push(worker)
  await once(worker, 'message')
}
const after = rssAfterGc()
await Promise.all(workers.map((worker) => worker.terminate()))
console.log(JSON.stringify({ bytesPerThread: (after - before) / n, n }))
