import { describe, expect, it } from 'vitest'
import { sleep } from '../../../src/concurrency/abort.ts'
import { compare } from '../../../src/examples/cpu-loop-delay.ts'
import { hashChain } from '../../../src/jobs/cpu/hash-chain.mjs'
import { measureLoopDelay } from '../../../src/jobs/cpu/loop-delay.ts'

describe('measureLoopDelay', () => {
  it('sees a loop held by synchronous work as delayed for that long', async () => {
    let heldMs = 0
    const seen = await measureLoopDelay(async () => {
      await sleep(1)
      const start = performance.now()
      while (performance.now() - start < 50) {} // hold the loop
      heldMs = performance.now() - start
    })
    expect(seen.maxDelayMs).toBeGreaterThanOrEqual(heldMs * 0.9)
    expect(seen.probes).toBeGreaterThan(0)
  })

  it('waits for the work and the last probe, and passes the work on', async () => {
    const probed: string[] = []
    const seen = await measureLoopDelay(
      () => sleep(5),
      async () => {
        probed.push('probe')
      },
    )
    expect(seen.probes).toBe(probed.length)
    expect(seen.probes).toBeGreaterThan(0)
  })
})

describe('CPU work on the event loop or on the pool', () => {
  it('cpu-tasks-take-turns: two async tasks that compute run one after the other', async () => {
    const steps: string[] = []
    const task = async (name: string): Promise<void> => {
      await Promise.resolve() // both tasks have started and are waiting
      steps.push(`${name} computes`)
      hashChain(10_000)
      steps.push(`${name} done`)
    }
    await Promise.all([task('first'), task('second')])
    expect(steps).toEqual([
      'first computes',
      'first done',
      'second computes',
      'second done',
    ])
  })

  // Both runs do the same jobs in the same order; the margins are wide
  // (5x) because other test files load the same cores meanwhile.
  it('cpu-loop-free: the pool leaves the event loop free; the loop run holds it', async () => {
    const { loop, pool, sameDigests } = await compare()
    expect(sameDigests).toBe(true)
    expect(loop.maxDelayMs).toBeGreaterThanOrEqual(5 * pool.maxDelayMs)
    expect(loop.slowestProbeMs).toBeGreaterThanOrEqual(5 * pool.slowestProbeMs)
    expect(pool.probes).toBeGreaterThan(5 * loop.probes)
  })
})
