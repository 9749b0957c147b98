/**
 * Go's `select` over `Channel`s: wait for the first of several receives and
 * sends, perform exactly that one, and withdraw the others with no effect.
 *
 * Copy this file with `channel.ts`, its only import. The import names
 * `./channel.ts`: where your TypeScript does not accept `.ts` specifiers
 * (tsc emitting JavaScript), write `./channel.js` instead, or turn on
 * `rewriteRelativeImportExtensions` (TypeScript 5.7 and later).
 *
 * Usage (test/concurrency/copyable.test.ts runs it on a copy of the file):
 *
 * ```ts
 * import { Channel } from './channel.ts'
 * import { recv, select, send } from './select.ts'
 *
 * const jobs = new Channel<string>()
 * const results = new Channel<number>(1)
 * setTimeout(() => void jobs.send('late'), 10)
 * const first = await select([recv(jobs), send(results, 7)])
 * console.log(first.index, results.length) // → 1 1
 * const next = await select([recv(jobs), recv(new Channel<never>())])
 * if (next.index === 0) console.log(next.value) // → late
 * ```
 */
import {
  Channel,
  ChannelClosedError,
  park,
  type Waiter,
  type WaitOptions,
} from './channel.ts'

/** A receive case for `select`: `case v, ok := <-ch`. Build it with `recv`. */
export interface RecvCase<T> {
  readonly op: 'recv'
  readonly channel: Channel<T>
}

/** A send case for `select`: `case ch <- v`. Build it with `send`. */
export interface SendCase<T> {
  readonly op: 'send'
  readonly channel: Channel<T>
  readonly value: T
}

/** Any case `select` accepts. */
export type SelectCase = RecvCase<unknown> | SendCase<unknown>

/** The case that receives from `channel`; it does nothing by itself. */
export function recv<T>(channel: Channel<T>): RecvCase<T> {
  return { op: 'recv', channel }
}

/** The case that sends `value` to `channel`; it does nothing by itself. */
export function send<T>(channel: Channel<T>, value: T): SendCase<T> {
  return { op: 'send', channel, value }
}

/**
 * What happened for case `I`: for a receive case, what `recv` would give;
 * for a send case, `{ value: undefined, ok: true }` (the value was sent).
 */
export type CaseResult<C, I extends number> =
  C extends RecvCase<infer T>
    ?
        | { index: I; value: T; ok: true }
        | { index: I; value: undefined; ok: false }
    : { index: I; value: undefined; ok: true }

/**
 * The result of `select(cases)`: a union discriminated by `index`, so that
 * checking `index` (then `ok`) narrows `value` to that case's type.
 */
export type Selected<C extends readonly SelectCase[]> = {
  [I in keyof C]: I extends `${infer N extends number}`
    ? CaseResult<C[I], N>
    : CaseResult<C[I], number>
}[number]

/**
 * Waits until one of `cases` can proceed, performs that one alone, and
 * resolves with its `index` and, for a receive, the `value` and `ok` that
 * `recv` would give. The other cases are withdrawn: they take no value and
 * deliver none. When several are ready, one is chosen uniformly at random,
 * as Go does, so no case starves another.
 *
 * Rejects with the signal's reason if it aborts first (then no case
 * happened), and with `ChannelClosedError` if a send case's channel is
 * closed, before or while waiting (where Go panics). A receive case on a
 * closed, drained channel is ready: it resolves with `ok: false`.
 * With no cases, waits for the signal (Go's `select {}`).
 */
// #region select
export function select<const C extends readonly SelectCase[]>(
  cases: C,
  options: WaitOptions = {},
): Promise<Selected<C>> {
  const { signal } = options
  if (signal?.aborted) return Promise.reject(signal.reason)
  let ready: Selected<C> | undefined
  try {
    ready = trySelect(cases)
  } catch (error) {
    return Promise.reject(error)
  }
  if (ready) return Promise.resolve(ready)
  return waitForOne(cases, signal) as Promise<Selected<C>>
}
// #endregion select

/**
 * Parks a waiter on every case's channel. The first channel to settle one
 * settles the select, which withdraws the others before anything else can
 * run, so exactly one case happens; an abort withdraws them all.
 */
// #region select-wait
function waitForOne(
  cases: readonly SelectCase[],
  signal: AbortSignal | undefined,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const withdrawals: (() => void)[] = []
    const withdrawAll = () => {
      signal?.removeEventListener('abort', onAbort)
      for (const withdraw of withdrawals) withdraw()
    }
    const outcome: Outcome = {
      done(result) {
        withdrawAll()
        resolve(result)
      },
      fail(error) {
        withdrawAll()
        reject(error)
      },
    }
    function onAbort() {
      outcome.fail(signal?.reason)
    }
    cases.forEach((selectCase, index) => {
      const waiter = waiterFor(selectCase, index, outcome)
      withdrawals.push(selectCase.channel[park](waiter))
    })
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
// #endregion select-wait

/** How a parked case ends its select. */
interface Outcome {
  done(result: unknown): void
  fail(error: unknown): void
}

/** The waiter of case `index`: it reports what happened to `outcome`. */
function waiterFor(
  selectCase: SelectCase,
  index: number,
  outcome: Outcome,
): Waiter<unknown> {
  if (selectCase.op === 'recv') {
    return {
      kind: 'recv',
      settle: (received) => outcome.done({ index, ...received }),
    }
  }
  return {
    kind: 'send',
    value: selectCase.value,
    settle: (error) => {
      if (error) outcome.fail(error)
      else outcome.done({ index, value: undefined, ok: true })
    },
  }
}

/**
 * Performs one of `cases` that can proceed without waiting, chosen
 * uniformly at random among them, and returns what `select` would; returns
 * `undefined` when none can (Go's `select` with a `default` case). Throws
 * `ChannelClosedError` if a send case's channel is closed.
 */
// #region try-select
export function trySelect<const C extends readonly SelectCase[]>(
  cases: C,
): Selected<C> | undefined {
  for (const { op, channel } of cases) {
    if (op === 'send' && channel.closed) {
      throw new ChannelClosedError('send on closed channel')
    }
  }
  // The first ready case in a uniformly random order is uniformly random
  // among the ready cases (Go polls its cases the same way).
  for (const index of shuffledIndexes(cases.length)) {
    const selectCase = cases[index] as SelectCase
    if (selectCase.op === 'recv') {
      const received = selectCase.channel.tryRecv()
      if (received) return { index, ...received } as Selected<C>
    } else if (selectCase.channel.trySend(selectCase.value)) {
      return { index, value: undefined, ok: true } as Selected<C>
    }
  }
  return undefined
}
// #endregion try-select

/** 0 .. length-1 in a uniformly random order (Fisher–Yates). */
function shuffledIndexes(length: number): number[] {
  const indexes = Array.from({ length }, (_, i) => i)
  for (let i = length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[indexes[i], indexes[j]] = [indexes[j] as number, indexes[i] as number]
  }
  return indexes
}
