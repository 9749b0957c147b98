import { afterEach, describe, expect, it, vi } from 'vitest'
import { sleep } from '../../../src/concurrency/abort.ts'
import { compare } from '../../../src/examples/cpu-loop-delay.ts'
import { blockingHashJob } from '../../../src/jobs/cpu/hash.ts'
import { newJob } from '../../../src/jobs/job.ts'
import { measureLoopDelay } from '../../../src/jobs/cpu/loop-delay.ts'

// The chain as the handlers call it, with a record of when each run
// starts and ends on this thread (worker threads load the real file).
const chainSteps: string[] = []
vi.mock('../../../src/jobs/cpu/hash-chain.mjs', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/jobs/cpu/hash-chain.mjs')>()
  return {
    ...real,
    hashChain: (rounds: number) => {
      chainSteps.push(`chain of ${rounds} starts`)
      const digest = real.hashChain(rounds)
      chainSteps.push(`chain of ${rounds} ends`)
      return digest
    },
  }
})

const hashJobOf = (rounds: number) =>
  newJob({ type: 'hash', payload: { rounds } }, `job-${rounds}`, new Date())

afterEach(() => {
  chainSteps.length = 0
})

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
  it('cpu-tasks-take-turns: two workers running blocking hash jobs compute one after the other, and nothing else runs between', async () => {
    const signal = new AbortController().signal
    // Two workers, each running one job with the handler the service
    // would give it; a probe notes when the event loop next turns.
    const worker = async (run: () => Promise<unknown>) => {
      await Promise.resolve() // both workers have started and wait here
      return run()
    }
    const probe = new Promise<void>((resolve) =>
      setImmediate(() => {
        chainSteps.push('the loop turns')
        resolve()
      }),
    )
    const onLoop = (rounds: number) => () => blockingHashJob.run(hashJobOf(rounds), { signal })
    await Promise.all([worker(onLoop(10_000)), worker(onLoop(10_001)), probe])
    expect(chainSteps).toEqual([
      'chain of 10000 starts',
      'chain of 10000 ends',
      'chain of 10001 starts',
      'chain of 10001 ends',
      'the loop turns',
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
