// Small tools for deterministic tests: a promise the test settles by hand,
// a way to ask whether a promise has settled without awaiting it, and one
// turn of the event loop (which lets due reactions run; it is not a sleep).

export interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

/** A promise and the functions that settle it, for the test to call. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Watches a promise without awaiting it, so a test can ask if it settled. */
export function track<T>(promise: Promise<T>) {
  const seen = {
    state: 'pending' as 'pending' | 'fulfilled' | 'rejected',
    value: undefined as T | undefined,
    reason: undefined as unknown,
  }
  promise.then(
    (value) => Object.assign(seen, { state: 'fulfilled', value }),
    (reason: unknown) => Object.assign(seen, { state: 'rejected', reason }),
  )
  return seen
}

/**
 * One full turn of the event loop: every promise reaction already due has
 * run, and Node has reported unhandled rejections.
 */
export const nextTurn = (): Promise<void> =>
  new Promise<void>((resolve) => setImmediate(resolve))
