import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import { Channel } from '../concurrency/channel.ts'
import { spawn, type Task } from '../concurrency/task.ts'
import { runIfMain, type Out } from './run.ts'

/** What one idle task and one idle worker thread cost, in bytes. */
export interface IdleCost {
  tasks: number
  /** Heap per plain async function parked on `recv()`. */
  bytesPerAsyncFunction: number
  /** Heap per tracked `spawn` task parked on `recv({ signal })`. */
  bytesPerTask: number
  workers: number
  /** Resident memory per idle worker thread. */
  bytesPerWorker: number
}

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect === undefined) throw new Error('run node with --expose-gc')
  collect()
}
const settle = () => new Promise((resolve) => setImmediate(resolve))

// #region idle-tasks
async function heapPerIdle(
  count: number,
  park: (channel: Channel<number>) => PromiseLike<unknown>,
): Promise<number> {
  const channel = new Channel<number>()
  gc()
  const before = process.memoryUsage().heapUsed
  const parked: PromiseLike<unknown>[] = []
  for (let i = 0; i < count; i++) parked.push(park(channel))
  await settle() // every one of them is now waiting in recv()
  gc()
  const after = process.memoryUsage().heapUsed
  channel.close() // each recv() answers { ok: false }: all of them end
  await Promise.all(parked)
  return (after - before) / count
}

const asyncFunction = (channel: Channel<number>) =>
  (async () => {
    await channel.recv()
  })()

const task = (channel: Channel<number>): Task<unknown> =>
  spawn('idle', (signal) => channel.recv({ signal }))
// #endregion idle-tasks

async function rssPerWorker(count: number): Promise<number> {
  gc()
  const before = process.memoryUsage().rss
  const idle = 'require("node:worker_threads").parentPort.once("message", () => {})'
  const workers: Worker[] = []
  for (let i = 0; i < count; i++) {
    workers.push(new Worker(idle, { eval: true }))
  }
  await Promise.all(
    workers.map((w) => new Promise((resolve) => w.once('online', resolve))),
  )
  await settle()
  const after = process.memoryUsage().rss
  await Promise.all(workers.map((w) => w.terminate()))
  return (after - before) / count
}

/** Measures in this process; needs `node --expose-gc`. */
export async function measure(
  tasks = 100_000,
  workers = 20,
): Promise<IdleCost> {
  // Threads first, while the resident size has not been inflated (and then
  // deflated) by the heap measurements.
  const bytesPerWorker = await rssPerWorker(workers)
  await heapPerIdle(1000, task) // warm up: compile, grow the heap once
  return {
    tasks,
    bytesPerAsyncFunction: await heapPerIdle(tasks, asyncFunction),
    bytesPerTask: await heapPerIdle(tasks, task),
    workers,
    bytesPerWorker,
  }
}

/** Measures in a fresh child process, so that nothing else is on the heap. */
export async function measureInChild(
  tasks = 100_000,
  workers = 20,
): Promise<IdleCost> {
  const file = fileURLToPath(import.meta.url)
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', file, '--json', `${tasks}`, `${workers}`],
    { timeout: 120_000 },
  )
  return JSON.parse(stdout) as IdleCost
}

export async function main(out: Out): Promise<void> {
  // Fewer than the test's 100,000 tasks and 20 threads, to run quickly: the
  // cost of one does not depend on how many there are.
  const cost = await measureInChild(10_000, 4)
  const kib = (bytes: number) => Math.round(bytes / 1024)
  out(`${cost.tasks} idle async functions: ` +
    `${Math.round(cost.bytesPerAsyncFunction)} bytes each`)
  out(`${cost.tasks} idle spawned tasks: ${Math.round(cost.bytesPerTask)} bytes each`)
  out(`${cost.workers} idle worker threads: ${kib(cost.bytesPerWorker)} KiB each`)
  out(`a worker thread costs ${Math.round(cost.bytesPerWorker / cost.bytesPerTask)}` +
    ' times a spawned task')
}

// `--json tasks workers`: the child's side of measureInChild.
const [flag, tasks, workers] = process.argv.slice(2)
runIfMain(
  import.meta.url,
  flag === '--json'
    ? async (out) => out(JSON.stringify(await measure(+tasks!, +workers!)))
    : main,
)
