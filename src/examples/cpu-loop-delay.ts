import { hashChain } from '../jobs/cpu/hash-chain.mjs'
import { measureLoopDelay, type LoopDelay } from '../jobs/cpu/loop-delay.ts'
import { createCpuPool } from '../jobs/cpu/pool.ts'
import { runIfMain, type Out } from './run.ts'

/** The work both runs do: this many hash jobs of this many rounds. */
export const JOBS = 3
export const ROUNDS = 100_000

// #region on-the-loop
/** The jobs one after another on the event loop, as a worker would. */
export async function onTheLoop(): Promise<string[]> {
  const digests: string[] = []
  for (let job = 0; job < JOBS; job++) {
    await new Promise((resolve) => setImmediate(resolve)) // next job
    digests.push(hashChain(ROUNDS)) // holds the loop until it returns
  }
  return digests
}
// #endregion on-the-loop

/** Both measurements, made in the same run, on the same work. */
export interface Comparison {
  readonly loop: LoopDelay
  readonly pool: LoopDelay
  readonly sameDigests: boolean
}

// #region on-the-pool
/**
 * The same jobs on a pool of one thread: the same work in the same
 * order, so the only difference is which thread does it.
 */
export async function compare(): Promise<Comparison> {
  const pool = createCpuPool({ size: 1 })
  try {
    await pool.hash(1) // start the thread before measuring
    let onPool: string[] = []
    const poolDelay = await measureLoopDelay(async () => {
      const jobs = Array.from({ length: JOBS }, () => pool.hash(ROUNDS))
      onPool = await Promise.all(jobs)
    })
    let onLoop: string[] = []
    const loopDelay = await measureLoopDelay(async () => {
      onLoop = await onTheLoop()
    })
    const sameDigests = onLoop.join() === onPool.join()
    return { loop: loopDelay, pool: poolDelay, sameDigests }
  } finally {
    await pool.close()
  }
}
// #endregion on-the-pool

const ms = (value: number): string => value.toFixed(1)

export async function main(out: Out): Promise<void> {
  out(`${JOBS} hash jobs of ${ROUNDS} rounds each`)
  const { loop, pool, sameDigests } = await compare()
  for (const [where, seen] of [
    ['event loop', loop],
    ['pool', pool],
  ] as const) {
    out(`on the ${where}:`)
    out(`  max event loop delay ${ms(seen.maxDelayMs)} ms`)
    out(`  slowest ping ${ms(seen.slowestProbeMs)} ms`)
    out(`  pings answered ${seen.probes}`)
  }
  out(`same digests: ${sameDigests}`)
}

runIfMain(import.meta.url, main)
