/**
 * A pool of worker threads for CPU-bound jobs, behind a seam of three
 * members: `hash`, `close`, and the counts. piscina does the pooling; this
 * file adds what a job service needs from it: cancellation that rejects
 * with the signal's reason only once the thread running the work has
 * exited, and a `close` that ends every thread and refuses new work.
 */
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { AbortOptions } from '../../concurrency/abort.ts'

// #region size
/**
 * The default number of threads: one per core, less one for the event
 * loop (which serves HTTP and runs the I/O jobs), and at least one.
 */
export function defaultCpuPoolSize(): number {
  return Math.max(1, availableParallelism() - 1)
}
// #endregion size

/** `CPU_POOL_SIZE`: threads for CPU-bound jobs; its default and bounds. */
export const CPU_POOL_SIZE = {
  name: 'CPU_POOL_SIZE',
  fallback: defaultCpuPoolSize(),
  min: 1,
  max: 256,
} as const

/** `hash` was called after `close`, or `close` ended the thread it ran on. */
export class CpuPoolClosedError extends Error {
  override name = 'CpuPoolClosedError'
  constructor() {
    super('the CPU pool is closed')
  }
}

// #region seam
/** Worker threads that run the CPU-bound work of jobs. */
export interface CpuPool {
  /** The most threads that run at once. */
  readonly size: number
  /** Threads alive now: started and not yet exited. */
  readonly threads: number
  /**
   * The SHA-256 chain of `rounds` rounds, computed on a thread. When
   * `signal` aborts, the thread running it is terminated and the promise
   * rejects with the signal's reason, once that thread has exited.
   */
  hash(rounds: number, options?: AbortOptions): Promise<string>
  /**
   * Terminates every thread and waits for them to exit. Work still
   * running or queued rejects with `CpuPoolClosedError`: abort or await
   * it first for a graceful stop. Idempotent.
   */
  close(): Promise<void>
}
// #endregion seam

/** Options of {@link createCpuPool}. */
export interface CpuPoolOptions {
  /** The most threads at once (default: {@link defaultCpuPoolSize}). */
  readonly size?: number
}

/**
 * A pool of up to `size` threads. Threads start on demand (none at
 * first, so creating a pool costs nothing) and are kept until `close`.
 * Work beyond `size` waits in piscina's queue: bound it upstream, as
 * the job service does with its worker count.
 */
// #region create
export function createCpuPool(options: CpuPoolOptions = {}): CpuPool {
  const { size = defaultCpuPoolSize() } = options
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new TypeError(
      `Expected \`size\` to be an integer from 1 and up, got \`${size}\``,
    )
  }
  const piscina = new Piscina<{ rounds: number }, string>({
    filename: new URL('./hash-chain.mjs', import.meta.url).href,
    minThreads: 0,
    maxThreads: size,
    // No idle timeout: piscina 5 can lose an idle timer it replaces,
    // leaving it pending; an idle thread costs only its memory.
    idleTimeout: Number.POSITIVE_INFINITY,
    // A thread inherits the process's flags, tsx's loader included under
    // `npm start`, which slows each start several times over. The task
    // file is plain JavaScript and needs none of them.
    execArgv: [],
  })
  // An error with no task to reject (a thread that died while idle) is
  // emitted on the pool; unhandled, it would crash the process.
  piscina.on('error', () => {})
  // #endregion create

  // Each thread piscina started, until its 'exit': so that `threads`
  // counts what is really alive, and a cancel can wait for its thread.
  const exits = new Map<Worker, Promise<void>>()
  const watch = (): void => {
    for (const thread of piscina.threads) {
      if (exits.has(thread)) continue
      const exited = new Promise<void>((resolve) => {
        thread.once('exit', () => {
          exits.delete(thread)
          resolve()
        })
      })
      exits.set(thread, exited)
    }
  }
  piscina.on('workerCreate', watch)

  // Threads piscina has let go of (terminated) that have not exited yet.
  const terminating = (): Promise<unknown> => {
    const current = new Set(piscina.threads)
    const gone = [...exits].filter(([thread]) => !current.has(thread))
    return Promise.all(gone.map(([, exited]) => exited))
  }

  let closing: Promise<void> | undefined
  return {
    size,
    get threads() {
      return exits.size
    },
    // #region hash
    async hash(rounds, { signal } = {}) {
      if (!Number.isSafeInteger(rounds) || rounds < 0) {
        const got = `got \`${rounds}\``
        throw new TypeError(
          `Expected \`rounds\` to be an integer from 0 and up, ${got}`,
        )
      }
      if (closing !== undefined) throw new CpuPoolClosedError()
      signal?.throwIfAborted()
      const run = piscina.run({ rounds }, { signal })
      watch()
      try {
        return await run
      } catch (error) {
        // piscina rejects first and terminates the thread after: wait
        // for the exit, so that no work outlives the rejection.
        if (signal?.aborted) {
          await terminating()
          throw signal.reason
        }
        if (closing !== undefined) throw new CpuPoolClosedError()
        throw error
      }
    },
    // #endregion hash
    close() {
      // destroy() waits for the threads it terminates; a thread a cancel
      // terminated earlier may still be exiting: wait for it too.
      closing ??= piscina
        .destroy()
        .then(() => Promise.all(exits.values()))
        .then(() => undefined)
      return closing
    },
  }
}
