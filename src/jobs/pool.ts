/**
 * The worker pool: `size` workers sharing the local hand-off channel
 * (fan-out), each supervised. A worker whose loop fails (a bug: a
 * handler's failure is its job's, never its worker's) is reported and
 * replaced; one failure never stops the others. If workers keep failing,
 * the pool gives up and says so, and the service stops rather than run
 * short of workers without anyone knowing.
 */
import { sleep } from '../concurrency/abort.ts'
import { spawn, type Task } from '../concurrency/task.ts'
import { messageOf } from './errors.ts'
import { runWorker, type WorkerOptions } from './worker.ts'

/** What a pool needs: the workers' options, less what the pool gives each. */
export interface PoolOptions
  extends Omit<WorkerOptions, 'name' | 'signal' | 'onIdle' | 'onBusy'> {
  /** How many workers (`WORKER_COUNT`). */
  readonly size: number
  /** Called each time a worker starts waiting for a job. */
  readonly onIdle?: (() => void) | undefined
  /** Crashes within `crashWindowMs` after which the pool gives up (5). */
  readonly maxCrashes?: number | undefined
  readonly crashWindowMs?: number | undefined
  /** The pause before a crashed worker is replaced (ms, default 100). */
  readonly restartDelayMs?: number | undefined
  /** Called once if the pool gives up; its workers have stopped then. */
  readonly onGiveUp?: ((error: unknown) => void) | undefined
}

/** A running group of supervised workers, and the two ways to stop them. */
// #region pool
export class WorkerPool {
  readonly size: number
  readonly #options: PoolOptions
  readonly #taking = new AbortController()
  // Each worker's own signal, which `#taking` aborts (see the constructor).
  readonly #stops = new Set<AbortController>()
  readonly #workers: Task<void>[] = []
  readonly #crashes: number[] = []
  #idle = 0

  /** Starts `size` workers on `options.queue`. */
  constructor(options: PoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) {
      throw new RangeError(
        'Expected `size` to be an integer from 1 and up, ' +
          `got \`${options.size}\``,
      )
    }
    this.size = options.size
    this.#options = options
    this.#passOnStop(this.#taking.signal)
    for (let i = 1; i <= options.size; i++) {
      const name = `worker-${i}`
      this.#workers.push(spawn(name, () => this.#supervise(name)))
    }
  }
  // #endregion pool

  // One listener on the pool's signal, not one per wait: a worker waits
  // on its own signal, with no other listener to walk past, and Node
  // warns of a leak past ten listeners on one signal.
  #passOnStop(taking: AbortSignal): void {
    taking.addEventListener('abort', () => {
      for (const stop of this.#stops) stop.abort(taking.reason)
    })
  }

  // #region pool-stop
  /** How many workers wait for a job now. */
  get idle(): number {
    return this.#idle
  }

  /** Workers take no new job; each finishes the one it holds. No wait. */
  stopTaking(reason?: unknown): void {
    this.#taking.abort(reason)
  }

  /** Aborts the signals of the jobs this instance holds. No wait. */
  abortJobs(reason: unknown): void {
    this.#options.running.abortAll(reason)
  }

  /** Resolves when every worker has returned. Never rejects. */
  async wait(): Promise<void> {
    await Promise.all(this.#workers)
  }
  // #endregion pool-stop

  /** Runs one worker, and a new one each time it fails, until stopped. */
  async #supervise(name: string): Promise<void> {
    const { events, maxCrashes = 5, crashWindowMs = 60_000 } = this.#options
    const stop = new AbortController()
    if (this.#taking.signal.aborted) stop.abort(this.#taking.signal.reason)
    this.#stops.add(stop)
    const signal = stop.signal
    const worker: WorkerOptions = {
      ...this.#options,
      name,
      signal,
      onIdle: () => {
        this.#idle += 1
        this.#options.onIdle?.()
      },
      onBusy: () => {
        this.#idle -= 1
      },
    }
    // #region supervise
    while (!signal.aborted) {
      try {
        return await runWorker(worker)
      } catch (error) {
        const now = performance.now()
        this.#crashes.push(now)
        while (this.#crashes[0]! < now - crashWindowMs) this.#crashes.shift()
        const crashes = this.#crashes.length
        events?.emit('worker_crashed', {
          worker_id: name,
          error: messageOf(error),
          crashes,
        })
        if (crashes >= maxCrashes) return this.#giveUp(error)
        await sleep(this.#options.restartDelayMs ?? 100, { signal }).catch(
          () => {},
        )
      }
    }
    // #endregion supervise
  }

  #giveUp(error: unknown): void {
    if (this.#taking.signal.aborted) return
    this.stopTaking(error)
    this.#options.onGiveUp?.(error)
  }
}
