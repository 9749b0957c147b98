// Tasks with owners: Go's `go` keyword, plus someone who can stop the task
// and wait for it, and errgroup. No imports, nothing runs at import time:
// copy this file alone.
//
// Usage (test/concurrency/copyable.test.ts runs it on a copy of the file):
//
// ```ts
// import { spawn, TaskGroup } from './task.ts'
//
// const owner = new AbortController()
// const ticker = spawn('ticker', async (signal) => {
//   let ticks = 0
//   while (!signal.aborted) {
//     ticks += 1
//     await new Promise((resolve) => setTimeout(resolve, 1))
//   }
//   return ticks
// }, { signal: owner.signal })
// setTimeout(() => owner.abort(), 10)
// console.log((await ticker) > 0, ticker.state) // → true fulfilled
//
// const group = new TaskGroup()
// for (const n of [1, 2, 3]) {
//   group.spawn(`job ${n}`, async (signal) => {
//     if (n === 2) throw new Error('job 2 failed')
//     await new Promise((resolve) => setTimeout(resolve, 5))
//     console.log(`job ${n}`, signal.aborted ? 'aborted' : 'done')
//   })
// }
// console.log(await group.wait().catch((error: Error) => error.message))
// // → job 1 aborted
// // → job 3 aborted
// // → job 2 failed
// ```

/** Where a task is in its life: running until its body settles. */
export type TaskState = 'running' | 'fulfilled' | 'rejected'

/** Options of {@link spawn}: the owner's signal, which the task's follows. */
export interface SpawnOptions {
  signal?: AbortSignal | undefined
}

/**
 * A running async function that the process knows about: awaitable, named,
 * with a signal its owner can abort. Awaiting it gives the body's result or
 * its error.
 */
export interface Task<T> extends PromiseLike<T> {
  /** The name given to {@link spawn}, for reports and logs. */
  readonly name: string
  /** Aborts when `abort()` is called or when the owner's signal aborts. */
  readonly signal: AbortSignal
  /** Where `spawn` was called: `file:line:column` of the first user frame. */
  readonly site: string
  /** When it was spawned, in `performance.now()` milliseconds. */
  readonly startedAt: number
  readonly state: TaskState
  /** Asks the task to stop, by aborting its signal. Does not wait for it. */
  abort(reason?: unknown): void
}

// The tasks the process knows about: running ones, and failed ones whose
// failure nobody has awaited yet. `findLeaks()` in leaks.ts reads it.
const known = new Set<SpawnedTask<unknown>>()

/**
 * The tasks still running, and the failed ones that nobody has awaited, in
 * the order they were spawned. A task leaves this list when it fulfils, or
 * when its failure has been (or is later) awaited.
 */
export function knownTasks(): Task<unknown>[] {
  return [...known]
}

class SpawnedTask<T> implements Task<T> {
  readonly name: string
  readonly startedAt = performance.now()
  readonly #controller = new AbortController()
  readonly #origin: Error
  readonly #promise: Promise<T>
  #site: string | undefined
  #state: TaskState = 'running'
  #observed = false

  constructor(
    name: string,
    fn: (signal: AbortSignal) => Promise<T>,
    owner: AbortSignal | undefined,
  ) {
    this.name = name
    // The stack is captured now and formatted only if someone asks. Made
    // here rather than in a helper: one frame fewer to keep (see below).
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = SITE_FRAMES
    this.#origin = new Error('spawned here')
    Error.stackTraceLimit = limit
    known.add(this)
    const unfollow = follow(owner, this.#controller)
    this.#promise = start(fn, this.#controller.signal)
    this.#promise.then(
      () => this.#settle('fulfilled', unfollow),
      () => this.#settle('rejected', unfollow),
    )
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  get site(): string {
    this.#site ??= creationSite(this.#origin.stack)
    return this.#site
  }

  get state(): TaskState {
    return this.#state
  }

  abort(reason?: unknown): void {
    this.#controller.abort(reason)
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    // Whoever calls `then` (as `await` does) receives the failure, if any:
    // the task no longer needs to be remembered for it.
    this.#observed = true
    if (this.#state === 'rejected') known.delete(this)
    return this.#promise.then(onFulfilled, onRejected)
  }

  #settle(state: TaskState, unfollow: () => void): void {
    this.#state = state
    unfollow()
    if (state === 'fulfilled' || this.#observed) known.delete(this)
  }
}

// #region spawn
/**
 * Starts `fn` as a task, Go's `go` with an owner: the caller gets a handle
 * to abort it and to await its result. The body runs at once, up to its
 * first `await`. The task's signal aborts when `options.signal` (the
 * owner's) does; the listener on the owner's signal is removed when the
 * task settles.
 *
 * A failure is delivered to whoever awaits the task, however late. A
 * failure that nobody has awaited is never swallowed: the task stays in
 * {@link knownTasks} (so `findLeaks()` reports it) until someone awaits it.
 * It is not raised as an unhandled rejection, because awaiting later is
 * normal.
 */
export function spawn<T>(
  name: string,
  fn: (signal: AbortSignal) => Promise<T>,
  options: SpawnOptions = {},
): Task<T> {
  return new SpawnedTask(name, fn, options.signal)
}
// #endregion spawn

function start<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  try {
    return Promise.resolve(fn(signal))
  } catch (error) {
    // A body that throws before returning its promise fails the task, too.
    return Promise.reject(error)
  }
}

// Shared, so that a task with no owner to follow allocates no function.
const nothing = (): void => {}

/** Makes `controller` abort when `owner` does; returns the way to stop. */
function follow(
  owner: AbortSignal | undefined,
  controller: AbortController,
): () => void {
  if (owner === undefined) return nothing
  if (owner.aborted) {
    controller.abort(owner.reason)
    return nothing
  }
  const onAbort = (): void => controller.abort(owner.reason)
  owner.addEventListener('abort', onAbort, { once: true })
  return () => owner.removeEventListener('abort', onAbort)
}

/** Options of {@link TaskGroup}. */
export interface TaskGroupOptions {
  /** The owner's signal: aborting it aborts every task of the group. */
  signal?: AbortSignal | undefined
  /** How many task bodies may run at once (default: no limit). */
  limit?: number | undefined
}

/**
 * Go's errgroup: tasks that live and fail together. The first failure
 * aborts the signals of all the group's tasks; `wait()` waits for every
 * task, then rejects with that first failure. With `limit`, at most that
 * many bodies run at once; the others wait their turn, in spawn order.
 * Once the group is aborted, a task that has not started never starts: it
 * rejects with the abort reason.
 */
export class TaskGroup {
  readonly #controller = new AbortController()
  readonly #owner: AbortSignal | undefined
  readonly #limit: number
  readonly #tasks = new Set<Task<unknown>>()
  readonly #turns: (() => void)[] = []
  #running = 0
  #failure: { error: unknown } | undefined
  #unfollow: (() => void) | undefined

  constructor(options: TaskGroupOptions = {}) {
    const { signal, limit = Infinity } = options
    if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 1))) {
      throw new TypeError(
        `Expected \`limit\` to be an integer from 1 and up, ` +
          `got \`${limit}\``,
      )
    }
    this.#owner = signal
    this.#limit = limit
    // One listener for the whole group, not one per task: a signal with
    // more than ten listeners makes Node warn of a leak, and a pool of
    // workers is one group.
    const group = this.#controller.signal
    group.addEventListener('abort', () => {
      for (const task of this.#tasks) task.abort(group.reason)
    })
  }

  /** Starts `fn` as a task of this group (see {@link spawn}). */
  // #region task-group
  spawn<T>(name: string, fn: (signal: AbortSignal) => Promise<T>): Task<T> {
    // Follow the owner only while the group has tasks, so that a
    // long-lived owner's signal does not collect one listener per group.
    this.#unfollow ??= follow(this.#owner, this.#controller)
    const group = this.#controller.signal
    // Already aborted: the task starts aborted. Otherwise the group's
    // one listener aborts it (see the constructor).
    const task = spawn(name, (signal) => this.#body(fn, signal), {
      signal: group.aborted ? group : undefined,
    })
    this.#tasks.add(task)
    // The body may have aborted the group before the task was in the set.
    if (group.aborted) task.abort(group.reason)
    task.then(
      () => this.#forget(task),
      (error: unknown) => {
        if (this.#failure === undefined) {
          this.#failure = { error }
          this.#controller.abort(error) // the first failure stops the rest
        }
        this.#forget(task)
      },
    )
    return task
  }
  // #endregion task-group

  /**
   * Waits until every task of the group has settled, including tasks
   * spawned while waiting; then rejects with the first failure, if any.
   */
  async wait(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled(this.#tasks)
    if (this.#failure !== undefined) throw this.#failure.error
  }

  /** Aborts every task's signal. Does not wait: call `wait()` for that. */
  abort(reason?: unknown): void {
    this.#controller.abort(reason)
  }

  /** Runs `fn` now if the limit allows, or once a turn comes. */
  #body<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal) {
    const run = async (): Promise<T> => {
      try {
        return await fn(signal)
      } finally {
        this.#endTurn()
      }
    }
    if (signal.aborted) return Promise.reject(signal.reason)
    if (this.#running < this.#limit) {
      this.#running += 1
      return run() // at once, as `spawn` does
    }
    return this.#waitTurn(signal).then(() => {
      if (!signal.aborted) return run()
      this.#endTurn() // aborted while the turn was on its way
      throw signal.reason
    })
  }

  #waitTurn(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const turn = (): void => {
        signal.removeEventListener('abort', onAbort)
        this.#running += 1
        resolve()
      }
      const onAbort = (): void => {
        this.#turns.splice(this.#turns.indexOf(turn), 1)
        reject(signal.reason)
      }
      this.#turns.push(turn)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  #endTurn(): void {
    this.#running -= 1
    this.#turns.shift()?.()
  }

  #forget(task: Task<unknown>): void {
    this.#tasks.delete(task)
    if (this.#tasks.size === 0) {
      this.#unfollow?.()
      this.#unfollow = undefined
    }
  }
}

// ---- where a task was created -------------------------------------------

// The files of this folder whose frames are machinery, not the caller.
const SIBLINGS = [
  'task.ts',
  'wait-group.ts',
  'leaks.ts',
  'channel.ts',
  'select.ts',
  'abort.ts',
]

// Frames kept of a creation stack: this file's two (the constructor and
// `spawn`), a caller of this folder (`TaskGroup.spawn`, `WaitGroup.go`)
// and the first one beyond. Each frame costs every task about 70 bytes
// for as long as it is known: sixteen, from a deep stack, cost more than
// its signal.
const SITE_FRAMES = 4

/**
 * The stack's frames as `path:line:column`, top first, without Node's
 * internals and without the frames of this folder's primitives. Paths are
 * relative to the working directory when they are inside it.
 */
export function stackLocations(stack: string | undefined): string[] {
  const here = decodeURI(new URL('.', import.meta.url).pathname)
  const locations: string[] = []
  for (const line of (stack ?? '').split('\n')) {
    const match = /^\s+at (?:.*\()?(.+?):(\d+):(\d+)\)?$/.exec(line)
    if (match === null) continue
    let [, file = '', row, column] = match
    if (file.startsWith('file://')) file = decodeURI(new URL(file).pathname)
    if (!file.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(file)) continue
    if (file.startsWith(here) && SIBLINGS.includes(file.slice(here.length))) {
      continue
    }
    locations.push(`${relative(file)}:${row}:${column}`)
  }
  return locations
}

/**
 * The most useful frame of a creation stack: the first one outside Node's
 * internals, this folder's primitives and `node_modules`; failing that, the
 * first frame at all; failing that, `"unknown"`.
 */
export function creationSite(stack: string | undefined): string {
  const locations = stackLocations(stack)
  const user = locations.find((l) => !/(?:^|\/)node_modules\//.test(l))
  return user ?? locations[0] ?? 'unknown'
}

function relative(file: string): string {
  const cwd = typeof process === 'undefined' ? '' : `${process.cwd()}/`
  return cwd !== '/' && file.startsWith(cwd) ? file.slice(cwd.length) : file
}
