// Small helpers for the one way this project cancels work: an AbortSignal.
// No imports, nothing runs at import time: copy this file alone.
//
// Usage (test/concurrency/copyable.test.ts runs it on a copy of the file):
//
// ```ts
// import { abortable, sleep } from './abort.ts'
//
// const controller = new AbortController()
// setTimeout(() => controller.abort(new Error('stopped')), 10)
// const slept = sleep(60_000, { signal: controller.signal })
// console.log(await slept.catch((error: Error) => error.message))
// // → stopped
// const answer = new Promise<string>((resolve) => resolve('42'))
// console.log(await abortable(answer, { signal: controller.signal })
//   .catch((error: Error) => error.message))
// // → stopped
// ```

/** What a cancellable operation accepts, as the platform's own APIs do. */
export interface AbortOptions {
  signal?: AbortSignal | undefined
}

// #region sleep
/**
 * Resolves after `ms` milliseconds. If `signal` aborts first, rejects with
 * the signal's reason and clears its timer; an already-aborted signal
 * rejects at once, without creating a timer. Uses the global `setTimeout`,
 * so fake timers drive it.
 */
export function sleep(
  ms: number,
  options: AbortOptions = {},
): Promise<void> {
  const { signal } = options
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
// #endregion sleep

// #region abortable
/**
 * Settles as `promise` does, or rejects with the signal's reason if
 * `signal` aborts first; the listener is removed either way. It does NOT
 * stop the work behind `promise`: use it only for work that cannot take a
 * signal, and whose result may be dropped.
 */
export function abortable<T>(
  promise: PromiseLike<T>,
  options: AbortOptions = {},
): Promise<T> {
  const { signal } = options
  if (signal === undefined) return Promise.resolve(promise)
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
// #endregion abortable
