/**
 * How free the event loop stays while some work runs: the largest event
 * loop delay Node's own monitor saw, and the slowest answer of a probe
 * (by default a `setImmediate` ping; a test may pass `GET /health`).
 * A measuring tool for tests and examples, not for production.
 */
import {
  monitorEventLoopDelay,
  type IntervalHistogram,
} from 'node:perf_hooks'
import { sleep } from '../../concurrency/abort.ts'

/** What {@link measureLoopDelay} saw while the work ran. */
export interface LoopDelay {
  /** The largest event loop delay, in milliseconds. */
  readonly maxDelayMs: number
  /** The slowest probe, from its call to its answer, in milliseconds. */
  readonly slowestProbeMs: number
  /** How many probes answered while the work ran. */
  readonly probes: number
}

/** A probe that answers on the next turn of the event loop. */
export function ping(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Runs `work` while probing the event loop: a probe every millisecond or
 * so (one at a time), and Node's delay monitor ticking every millisecond.
 * Resolves when the work and the last probe are done.
 */
// #region measure
export async function measureLoopDelay(
  work: () => Promise<unknown>,
  probe: () => Promise<unknown> = ping,
): Promise<LoopDelay> {
  const monitor = monitorEventLoopDelay({ resolution: 1 })
  const probed = { slowestProbeMs: 0, probes: 0 }
  let done = false
  monitor.enable()
  try {
    // The monitor records the time between two of its ticks: let it
    // tick before the work starts, and again after it ends.
    await nextTick(monitor)
    const probing = probeUntil(() => done, probe, probed)
    probing.catch(() => {}) // awaited below: this only marks it handled
    try {
      await work()
    } finally {
      done = true
      await probing
    }
    await nextTick(monitor)
  } finally {
    monitor.disable()
  }
  return { maxDelayMs: monitor.max / 1e6, ...probed }
}
// #endregion measure

/** Probes one at a time, a millisecond apart, until `done()`. */
// #region probe
async function probeUntil(
  done: () => boolean,
  probe: () => Promise<unknown>,
  probed: { slowestProbeMs: number; probes: number },
): Promise<void> {
  while (!done()) {
    const start = performance.now()
    await probe()
    const ms = performance.now() - start
    probed.slowestProbeMs = Math.max(probed.slowestProbeMs, ms)
    probed.probes++
    await sleep(1)
  }
}
// #endregion probe

// Resolves once the monitor has recorded one more delay (it ticks every
// millisecond, so this takes a few; give up after a hundred).
async function nextTick(monitor: IntervalHistogram): Promise<void> {
  const recorded = monitor.count
  for (let tries = 0; monitor.count === recorded && tries < 100; tries++) {
    await sleep(1)
  }
}
