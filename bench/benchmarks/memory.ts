/**
 * Memory: what an idle task waiting on a channel holds, against a worker
 * thread (measured) and a goroutine's minimum stack (cited); and what a
 * queued job holds. Each figure comes from a fresh child process with
 * `--expose-gc`, measuring the heap after a full collection before and
 * after creating the things.
 */
import type { Benchmark } from '../lib/benchmark.ts'
import { benchFile, runChild } from '../lib/child.ts'
import { cited, interleave, measured, ratio } from '../lib/measure.ts'

const GC = ['--expose-gc']

/** Bytes per idle task of `kind` (`task` or `async`), from a child. */
export async function idleTaskBytes(n: number, kind: 'task' | 'async') {
  const result = await runChild<{ bytesPerTask: number }>(
    benchFile('children/idle-tasks'),
    { flags: GC, args: [String(n), kind] },
  )
  return result.bytesPerTask
}

/** Resident bytes per idle worker thread, from a child starting `n`. */
export async function threadBytes(n: number) {
  const result = await runChild<{ bytesPerThread: number }>(
    benchFile('children/worker-threads'),
    { flags: GC, args: [String(n)] },
  )
  return result.bytesPerThread
}

/** Bytes per queued job (store + queue), from a child submitting `n`. */
export async function queuedJobBytes(n: number) {
  const result = await runChild<{ bytesPerJob: number }>(
    benchFile('children/queued-jobs'),
    { flags: GC, args: [String(n)] },
  )
  return result.bytesPerJob
}

const GO_STACK = cited(
  'goroutine',
  "Go's minimum goroutine stack",
  'B',
  2048,
  'Go runtime, src/runtime/stack.go: `stackMin = 2048` (not measured here)',
)

export const idleTaskMemory: Benchmark = {
  id: 'idle-task-memory',
  title: 'Memory per idle task waiting on a channel',
  against: "Go's 2 KB minimum goroutine stack; a worker thread",
  goal: '≤ 1 KB per task',
  async run(context) {
    const tasks = context.tiny ? 1_000 : 100_000
    const threads = context.tiny ? 1 : 4
    const rounds = context.tiny ? 1 : Math.min(context.rounds, 3)
    const values = await interleave(
      { ...context, rounds },
      {
        task: () => idleTaskBytes(tasks, 'task'),
        async: () => idleTaskBytes(tasks, 'async'),
        thread: () => threadBytes(threads),
      },
    )
    const task = measured('task', 'idle task (spawn + recv with signal)', 'B', values.task, {
      op: '<=',
      value: 1024,
    })
    const bare = measured('async', 'bare async function awaiting recv', 'B', values.async)
    const thread = measured('thread', 'idle worker thread (resident)', 'B', values.thread)
    return {
      sides: [
        {
          name: 'idle task',
          does:
            "`spawn('idle', (signal) => channel.recv({ signal }))`, " +
            `${tasks.toLocaleString('en')} times on one unbuffered channel ` +
            'that nobody sends on; the handles kept in an array; heap ' +
            '(used + external) after a full GC, before and after, ÷ n',
        },
        {
          name: 'bare async function',
          does:
            '`(async () => channel.recv())()`, the same number of times: ' +
            'no handle, no signal, no creation site',
        },
        {
          name: 'worker thread',
          does:
            `${threads} \`new Worker(...)\` that each post "ready" and wait ` +
            'for a message; resident memory (RSS) after a full GC, before ' +
            'and after, ÷ n. A thread has its own V8 heap and stack, so ' +
            'RSS is the measure that sees them',
        },
        { name: 'goroutine', does: GO_STACK.source ?? '' },
      ],
      figures: [
        task,
        bare,
        thread,
        GO_STACK,
        ratio('task/goroutine', 'task ÷ goroutine stack', task, GO_STACK),
        ratio('task/thread', 'task ÷ worker thread', task, thread),
      ],
      charts: [
        {
          title: 'bytes per idle task (the thread, far larger, is in the table)',
          unit: 'B',
          keys: ['async', 'task', 'goroutine'],
          line: { value: 1024, label: 'goal 1 KB' },
        },
      ],
      setup:
        `${tasks.toLocaleString('en')} tasks and ${threads} threads per ` +
        `child process, ${rounds} rounds`,
      notes: [],
    }
  },
}

export const queuedJobMemory: Benchmark = {
  id: 'queued-job-memory',
  title: 'Memory per queued job in the store',
  against: 'nothing: reported',
  goal: 'report',
  async run(context) {
    const jobs = context.tiny ? 1_000 : 100_000
    const rounds = context.tiny ? 1 : Math.min(context.rounds, 3)
    const values = await interleave(
      { ...context, rounds },
      { job: () => queuedJobBytes(jobs) },
    )
    return {
      sides: [
        {
          name: 'queued job',
          does:
            `${jobs.toLocaleString('en')} \`submitJob\` calls of ` +
            '`{ type: "sleep", payload: { ms: 100 } }` into a `MemoryStore` ' +
            'and a job queue with room for all, no worker running: each ' +
            'job is a frozen record in the store and its id in the queue. ' +
            'Heap (used + external) after a full GC, before and after, ÷ n',
        },
      ],
      figures: [measured('job', 'queued job (record + id in queue)', 'B', values.job)],
      charts: [],
      setup: `${jobs.toLocaleString('en')} jobs per child process, ${rounds} rounds`,
      notes: [],
    }
  },
}
