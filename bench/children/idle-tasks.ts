/**
 * Memory per idle task: starts `n` tasks that each wait on one channel, and
 * prints the heap they hold, in bytes per task. Run with `--expose-gc`.
 *
 *   node --expose-gc idle-tasks.js <n> <kind>
 *
 * kind `task`: `spawn(name, (signal) => channel.recv({ signal }))`, the
 *   book's idle task: a Task handle with its own AbortController, the
 *   creation site captured for the leak report, a parked receiver.
 * kind `async`: a bare `(async () => channel.recv())()`, no handle, no
 *   signal: what the task costs without the ownership.
 */
import { Channel } from '../../src/concurrency/channel.ts'
import { spawn } from '../../src/concurrency/task.ts'
import { heapAfterGc } from './memory.ts'

const n = Number(process.argv[2] ?? 100_000)
const kind = process.argv[3] ?? 'task'

const channel = new Channel<number>()
const waiting = new Array<PromiseLike<unknown>>(n).fill(Promise.resolve())
const before = heapAfterGc()
for (let i = 0; i < n; i++) {
  waiting[i] =
    kind === 'task'
      ? spawn('idle', (signal) => channel.recv({ signal }))
      : (async () => channel.recv())()
}
// Let every task run up to its wait before measuring what it holds.
await new Promise((resolve) => setImmediate(resolve))
const after = heapAfterGc()
// `channel` and `waiting` are used below, so that nothing is collected
// before the measurement; closing the channel lets every task finish.
channel.close()
await Promise.all(waiting)
console.log(JSON.stringify({ bytesPerTask: (after - before) / n, n, kind }))
