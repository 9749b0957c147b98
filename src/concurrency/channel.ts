/**
 * Go's channel for async tasks on one event loop: a FIFO queue of values
 * between tasks, with an optional buffer, that makes a sender wait while it
 * is full and a receiver wait while it is empty.
 *
 * Copy this file alone (and `select.ts` beside it for `select`): it imports
 * nothing and runs nothing at import time.
 *
 * Usage (test/concurrency/copyable.test.ts runs it on a copy of the file):
 *
 * ```ts
 * import { Channel } from './channel.ts'
 *
 * const jobs = new Channel<string>(1) // room for one
 * const worker = (async () => {
 *   for await (const job of jobs) console.log('took', job)
 * })()
 * await jobs.send('a') // into the buffer: it has room
 * await jobs.send('b') // waits until the worker has taken 'a'
 * jobs.close() // the worker drains what is left, then its loop ends
 * await worker
 * // → took a
 * // → took b
 * console.log(await jobs.recv()) // → { value: undefined, ok: false }
 * ```
 */

/**
 * What a receive gives: `{ value, ok: true }` for a value that was sent, or
 * `{ value: undefined, ok: false }` once the channel is closed and drained
 * (Go's `v, ok := <-ch`). A receive never fails because a channel is closed.
 */
export type Received<T> =
  | { value: T; ok: true }
  | { value: undefined; ok: false }

/**
 * The error of `send` (a rejection), `trySend` and `close()` (thrown) on a
 * closed channel: the cases where Go panics. It is a bug in the caller
 * (only the sender that owns the channel should close it, once, after its
 * last send), so it is thrown rather than reported as a value.
 */
export class ChannelClosedError extends Error {
  override name = 'ChannelClosedError'
}

/** The `{ signal }` option every operation that can wait accepts. */
export interface WaitOptions {
  /** Aborting it withdraws the operation, with no effect (see each method). */
  signal?: AbortSignal | undefined
}

/**
 * A receive or a send parked on a channel until a partner arrives or the
 * channel closes. The channel removes a waiter before it calls `settle`, and
 * calls `settle` at most once, synchronously.
 *
 * Internal: `recv`, `send` and `select.ts` park waiters; applications do not.
 */
export type Waiter<T> =
  | { readonly kind: 'recv'; settle(received: Received<T>): void }
  | {
      readonly kind: 'send'
      readonly value: T
      settle(error?: ChannelClosedError): void
    }

/**
 * The key of `Channel`'s internal hook that parks a waiter (see `Waiter`).
 * Exported for `select.ts` only: it is not part of the channel's API, and a
 * waiter parked by hand while its operation is ready breaks the channel.
 */
export const park: unique symbol = Symbol('Channel.park')

type RecvWaiter<T> = Extract<Waiter<T>, { kind: 'recv' }>
type SendWaiter<T> = Extract<Waiter<T>, { kind: 'send' }>

const drained = Object.freeze({ value: undefined, ok: false as const })

/**
 * A channel of `T` values, as in Go.
 *
 * - Unbuffered (capacity 0, the default): `send` resolves when a receiver
 *   has taken the value, so sender and receiver meet.
 * - Buffered (capacity n): `send` resolves at once while there is room and
 *   waits while the buffer is full (backpressure).
 * - Waiting senders and receivers are served first come, first served, and
 *   values come out in the order they went in.
 * - `close()` ends it: receivers drain what is buffered, then get
 *   `{ ok: false }` at once, forever; sending afterwards throws.
 *
 * When an operation meets a waiting partner, the value is handed over
 * directly and both promises are resolved before the call returns: the one
 * that was waiting resumes first, then the one that arrived.
 */
export class Channel<T> implements AsyncIterable<T> {
  /** How many values the buffer holds; 0 means unbuffered. */
  readonly capacity: number

  #buffer: T[] = []
  // A Set is a queue here: it iterates in insertion order (FIFO) and
  // deletes a withdrawn waiter from the middle in O(1).
  #receivers = new Set<RecvWaiter<T>>()
  #senders = new Set<SendWaiter<T>>()
  #closed = false

  /**
   * Makes a channel whose buffer holds `capacity` values (default 0:
   * unbuffered). Throws a `TypeError` or `RangeError` unless `capacity` is
   * a whole number from 0 up.
   */
  constructor(capacity = 0) {
    if (typeof capacity !== 'number') {
      throw new TypeError(expectedCapacity(capacity))
    }
    if (!Number.isSafeInteger(capacity) || capacity < 0) {
      throw new RangeError(expectedCapacity(capacity))
    }
    this.capacity = capacity
  }

  /** How many values are in the buffer now (Go's `len(ch)`). */
  get length(): number {
    return this.#buffer.length
  }

  /** Whether `close()` was called; buffered values may still be received. */
  get closed(): boolean {
    return this.#closed
  }

  // #region send
  /**
   * Sends `value`, resolving once a receiver has taken it (unbuffered) or
   * it is in the buffer. Waits while neither is possible: that wait is the
   * channel's backpressure. Rejects with `ChannelClosedError` if the
   * channel is closed, now or while waiting (the value then goes nowhere);
   * rejects with the signal's reason if it aborts first, and then the
   * value was not sent.
   */
  send(value: T, options: WaitOptions = {}): Promise<void> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    try {
      if (this.trySend(value)) return Promise.resolve()
    } catch (error) {
      return Promise.reject(error)
    }
    return waitOn<T, void>(this, signal, { kind: 'send', value })
  }
  // #endregion send

  // #region try-send
  /**
   * Sends `value` only if that needs no wait: to a receiver already
   * waiting, or into a free buffer slot. Returns whether it did (Go's
   * `select` with `default`). Throws `ChannelClosedError` if closed.
   */
  trySend(value: T): boolean {
    if (this.#closed) throw new ChannelClosedError('send on closed channel')
    const receiver = first(this.#receivers)
    if (receiver) {
      this.#receivers.delete(receiver)
      receiver.settle({ value, ok: true })
      return true
    }
    if (this.#buffer.length < this.capacity) {
      this.#buffer.push(value)
      return true
    }
    return false
  }
  // #endregion try-send

  // #region recv
  /**
   * Receives the next value: `{ value, ok: true }`, or `{ ok: false }` once
   * the channel is closed and its buffer drained. Waits while there is
   * nothing to take. Rejects only with the signal's reason, if it aborts
   * first, and then nothing was taken.
   */
  recv(options: WaitOptions = {}): Promise<Received<T>> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    const ready = this.tryRecv()
    if (ready) return Promise.resolve(ready)
    return waitOn<T, Received<T>>(this, signal, { kind: 'recv' })
  }
  // #endregion recv

  /**
   * Receives only if that needs no wait: a buffered value, a waiting
   * sender's value, or `{ ok: false }` if closed and drained. Returns
   * `undefined` when it would have to wait.
   */
  tryRecv(): Received<T> | undefined {
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift() as T
      // The freed slot goes to the sender that has waited longest.
      const sender = first(this.#senders)
      if (sender) {
        this.#senders.delete(sender)
        this.#buffer.push(sender.value)
        sender.settle()
      }
      return { value, ok: true }
    }
    const sender = first(this.#senders)
    if (sender) {
      this.#senders.delete(sender)
      sender.settle()
      return { value: sender.value, ok: true }
    }
    return this.#closed ? drained : undefined
  }

  // #region close
  /**
   * Closes the channel: no more sends. Waiting receivers get
   * `{ ok: false }`; waiting senders reject with `ChannelClosedError`;
   * buffered values can still be received. Only the owner (the sending
   * side) closes, once: a second `close()` throws `ChannelClosedError`.
   */
  close(): void {
    if (this.#closed) throw new ChannelClosedError('close of closed channel')
    this.#closed = true
    // Receivers wait only on an empty buffer: nothing more will come.
    for (const receiver of this.#receivers) {
      this.#receivers.delete(receiver)
      receiver.settle(drained)
    }
    for (const sender of this.#senders) {
      this.#senders.delete(sender)
      sender.settle(new ChannelClosedError('send on closed channel'))
    }
  }
  // #endregion close

  /**
   * Yields each value until the channel is closed and drained (Go's
   * `for v := range ch`). Leaving the loop early does not close the
   * channel and takes no value that the loop did not yield.
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: async () => {
        const received = await this.recv()
        return received.ok
          ? { value: received.value, done: false }
          : { value: undefined, done: true }
      },
    }
  }

  /**
   * Internal hook (see `park`): queues `waiter` until a partner or
   * `close()` settles it, and returns a function that withdraws it. Call
   * it only when the operation cannot complete now (after a `try...`).
   */
  [park](waiter: Waiter<T>): () => void {
    if (waiter.kind === 'recv') {
      this.#receivers.add(waiter)
      return () => this.#receivers.delete(waiter)
    }
    this.#senders.add(waiter)
    return () => this.#senders.delete(waiter)
  }
}

/**
 * Parks a receive or a send (`operation`) on `channel` until a partner or
 * `close()` settles it, or `signal` aborts: then it is withdrawn and the
 * promise rejects with the signal's reason.
 */
function waitOn<T, R>(
  channel: Channel<T>,
  signal: AbortSignal | undefined,
  operation: { kind: 'recv' } | { kind: 'send'; value: T },
): Promise<R> {
  // Without a signal nothing can withdraw it: the leanest waiter will do.
  if (signal === undefined) {
    return new Promise<R>((resolve, reject) => {
      channel[park](
        operation.kind === 'recv'
          ? { kind: 'recv', settle: resolve as (got: Received<T>) => void }
          : {
              kind: 'send',
              value: operation.value,
              settle: (error) => (error ? reject(error) : resolve(undefined as R)),
            },
      )
    })
  }
  return new Promise<R>((resolve, reject) => {
    const waiter = new Parked<T>(operation, signal, resolve, reject)
    waiter.withdraw = channel[park](waiter as Waiter<T>)
    signal.addEventListener('abort', waiter, { once: true })
  })
}

/**
 * A parked receive or send: the waiter the channel settles, and the
 * listener of its signal's abort (`handleEvent`), in one object. Closures
 * for each of those roles made a parked operation with a signal about
 * twice as large; every idle task waits in one of these.
 */
class Parked<T> {
  readonly kind: 'recv' | 'send'
  readonly value: T | undefined
  withdraw: () => void = nothing
  readonly #signal: AbortSignal
  readonly #resolve: (result: never) => void
  readonly #reject: (error: unknown) => void

  constructor(
    operation: { kind: 'recv' } | { kind: 'send'; value: T },
    signal: AbortSignal,
    resolve: (result: never) => void,
    reject: (error: unknown) => void,
  ) {
    this.kind = operation.kind
    this.value = operation.kind === 'send' ? operation.value : undefined
    this.#signal = signal
    this.#resolve = resolve
    this.#reject = reject
  }

  /** A receive's value, or a send's outcome (an error if it was refused). */
  settle(outcome?: Received<T> | ChannelClosedError): void {
    this.#signal.removeEventListener('abort', this)
    if (outcome instanceof ChannelClosedError) this.#reject(outcome)
    else (this.#resolve as (result: unknown) => void)(outcome)
  }

  /** The signal aborted: withdraw the waiter, reject with the reason. */
  handleEvent(): void {
    this.withdraw()
    this.#reject(this.#signal.reason)
  }
}

function nothing(): void {}

function first<V>(set: Set<V>): V | undefined {
  for (const value of set) return value
  return undefined
}

function expectedCapacity(capacity: unknown): string {
  return (
    `Expected \`capacity\` to be an integer from 0 and up, ` +
    `got \`${String(capacity)}\` (${typeof capacity})`
  )
}
