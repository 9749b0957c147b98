// Go's sync.WaitGroup: wait until a number of things are done. Imports its
// sibling task.ts (for `go`); nothing runs at import time. With `.js`
// import specifiers, write `./task.js` (see the note in select.ts).
//
// Usage (test/concurrency/copyable.test.ts runs it on a copy of the file):
//
// ```ts
// import { WaitGroup } from './wait-group.ts'
//
// const wg = new WaitGroup()
// const finished: number[] = []
// for (const ms of [3, 1, 2]) {
//   wg.go(async () => {
//     await new Promise((resolve) => setTimeout(resolve, ms))
//     finished.push(ms)
//   })
// }
// console.log(wg.count) // → 3
// await wg.wait()
// console.log(finished.length, wg.count) // → 3 0
// ```
import { spawn, type Task } from './task.ts'

/**
 * A counter of unfinished work: `add` before starting, `done` when
 * finished, `wait` until it is zero. It knows nothing of errors: use a
 * `TaskGroup` to collect them, or await the tasks themselves.
 */
// #region wait-group
export class WaitGroup {
  #count = 0
  readonly #waiters = new Set<() => void>()

  /** How many are not done yet. */
  get count(): number {
    return this.#count
  }

  /** Adds `n` (default 1) to the counter; throws if it would go below 0. */
  add(n = 1): void {
    if (!Number.isInteger(n)) {
      throw new TypeError(`Expected \`n\` to be an integer, got \`${n}\``)
    }
    const next = this.#count + n
    if (next < 0) throw new RangeError('WaitGroup counter went below zero')
    this.#count = next
    if (next > 0) return
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const wake of waiters) wake()
  }

  /** Subtracts one: call it exactly once per `add(1)`, in a `finally`. */
  done(): void {
    this.add(-1)
  }
  // #endregion wait-group

  /**
   * Adds one, spawns `fn` as a task and calls `done()` when it settles
   * (Go 1.25's `wg.Go`). Returns the task: await it for its result. A
   * failure nobody awaits stays known, as any task's (see `spawn`).
   */
  go<T>(fn: () => Promise<T>, name = 'WaitGroup.go'): Task<T> {
    this.add(1)
    return spawn(name, async () => {
      try {
        return await fn()
      } finally {
        this.done()
      }
    })
  }

  /**
   * Resolves when the counter is zero: at once if it is zero now. If
   * `signal` aborts first, rejects with its reason and leaves no listener
   * or waiter behind. The signal stops the waiting, not the work.
   */
  // #region wait-group-wait
  wait(options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.#count === 0) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        this.#waiters.delete(wake)
        reject(signal?.reason)
      }
      this.#waiters.add(wake)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
  // #endregion wait-group-wait

  /** How many calls to `wait` are pending (0 once all have returned). */
  get waiting(): number {
    return this.#waiters.size
  }
}
