// The four common mistakes with background tasks, each beside its fix.
// The leak check catches every "bad" version (test/concurrency/task.test.ts).
import { sleep } from '../concurrency/abort.ts'
import { Channel } from '../concurrency/channel.ts'
import { spawn, type Task } from '../concurrency/task.ts'
import { runIfMain, type Out } from './run.ts'

// #region endless-loop-bad
// Mistake 1: a loop that never stops. Nothing can end it.
export function startPollerBad(poll: () => void): Task<void> {
  return spawn('poller', async () => {
    for (;;) {
      poll()
      await sleep(10)
    }
  })
}
// #endregion endless-loop-bad

// #region endless-loop
// Fix: the loop ends when its signal aborts; the owner aborts it.
export function startPoller(
  poll: () => void,
  owner: AbortSignal,
): Task<void> {
  return spawn(
    'poller',
    async (signal) => {
      while (!signal.aborted) {
        poll()
        // sleep rejects only when the signal aborts: then the loop ends.
        await sleep(10, { signal }).catch(() => {})
      }
    },
    { signal: owner },
  )
}
// #endregion endless-loop

// #region no-way-to-wait-bad
// Mistake 2: no way to wait. The caller cannot know when it is done.
export function sendReportBad(out: Out): void {
  spawn('report', async () => {
    await sleep(10) // stands for slow work
    out('report sent')
  })
}
// #endregion no-way-to-wait-bad

// #region no-way-to-wait
// Fix: return the task; the caller awaits it.
export function sendReport(out: Out): Task<void> {
  return spawn('report', async () => {
    await sleep(10)
    out('report sent')
  })
}
// #endregion no-way-to-wait

// #region forgot-to-cancel-bad
// Mistake 3: forgetting to cancel. The worker waits for jobs forever.
export async function processAllBad(
  jobs: string[],
  out: Out,
): Promise<void> {
  const controller = new AbortController()
  const queue = new Channel<string>()
  spawn('worker', async (signal) => {
    for (;;) {
      const { value, ok } = await queue.recv({ signal })
      if (!ok) return
      out(`processed ${value}`)
    }
  }, { signal: controller.signal })
  for (const job of jobs) await queue.send(job)
  // returns: controller.abort() is never called
}
// #endregion forgot-to-cancel-bad

// #region forgot-to-cancel
// Fix: cancel in `finally` (Go's `defer cancel()`), then wait.
export async function processAll(jobs: string[], out: Out): Promise<void> {
  const controller = new AbortController()
  const queue = new Channel<string>()
  const worker = spawn('worker', async (signal) => {
    for (;;) {
      const { value, ok } = await queue.recv({ signal })
      if (!ok) return
      out(`processed ${value}`)
    }
  }, { signal: controller.signal })
  try {
    for (const job of jobs) await queue.send(job)
  } finally {
    controller.abort()
    await worker.then(undefined, () => {}) // it ends with the abort
  }
}
// #endregion forgot-to-cancel

// #region handler-spawns-bad
// Mistake 4: a task started inside a handler. Nobody owns it.
export function createJobBad(id: string, out: Out): { status: number } {
  spawn(`job-${id}`, async () => {
    await sleep(10) // stands for the job's work
    out(`job ${id} done`)
  })
  return { status: 202 }
}
// #endregion handler-spawns-bad

// #region handler-spawns
// Fix: the handler only queues the job; a worker that main owns runs it.
export function createJob(
  id: string,
  queue: Channel<string>,
): { status: number } {
  return queue.trySend(id) ? { status: 202 } : { status: 429 }
}

export function startWorker(queue: Channel<string>, out: Out): Task<void> {
  return spawn('worker', async (signal) => {
    for await (const id of queue) {
      await sleep(10, { signal })
      out(`job ${id} done`)
    }
  })
}
// #endregion handler-spawns

export async function main(out: Out): Promise<void> {
  const stop = new AbortController()
  let polls = 0
  const poller = startPoller(() => {
    polls += 1
    if (polls === 3) stop.abort()
  }, stop.signal)
  await poller
  out(`poller stopped after ${polls} polls`)

  await sendReport(out)

  await processAll(['a', 'b'], out)

  const queue = new Channel<string>(10)
  const worker = startWorker(queue, out)
  out(`POST /jobs -> ${createJob('1', queue).status}`)
  queue.close() // shutdown: no more jobs; the worker drains and ends
  await worker
}

runIfMain(import.meta.url, main)
