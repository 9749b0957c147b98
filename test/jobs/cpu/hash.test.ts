import { afterEach, describe, expect, it } from 'vitest'
import { InvalidPayloadError } from '../../../src/jobs/errors.ts'
import { hashChain } from '../../../src/jobs/cpu/hash-chain.mjs'
import {
  MAX_HASH_ROUNDS,
  blockingHashJob,
  hashJob,
  parseHashPayload,
} from '../../../src/jobs/cpu/hash.ts'
import { createCpuPool, type CpuPool } from '../../../src/jobs/cpu/pool.ts'
import { newJob, type Job } from '../../../src/jobs/job.ts'

function hashJobRecord(rounds: number): Job {
  const id = '00000000-0000-4000-8000-000000000000'
  return newJob({ type: 'hash', payload: { rounds } }, id, new Date())
}

let pool: CpuPool | undefined
afterEach(async () => {
  await pool?.close()
  pool = undefined
})

describe('the hash payload', () => {
  it.each([1, 1_000, MAX_HASH_ROUNDS])('accepts %d rounds', (rounds) => {
    expect(parseHashPayload({ rounds })).toEqual({ rounds })
  })

  it.each([
    ['zero rounds', { rounds: 0 }],
    ['too many rounds', { rounds: MAX_HASH_ROUNDS + 1 }],
    ['a fraction', { rounds: 1.5 }],
    ['a string', { rounds: '10' }],
    ['no rounds', {}],
    ['no payload', null],
  ])('refuses %s with an InvalidPayloadError', (_, payload) => {
    expect(() => parseHashPayload(payload)).toThrow(InvalidPayloadError)
    expect(() => parseHashPayload(payload)).toThrow(
      `hash needs payload.rounds, an integer from 1 to ${MAX_HASH_ROUNDS}`,
    )
  })

  it('both job types validate with the same rule', () => {
    pool = createCpuPool({ size: 1 })
    expect(hashJob(pool).validate).toBe(parseHashPayload)
    expect(blockingHashJob.validate).toBe(parseHashPayload)
  })
})

describe('hashJob', () => {
  it('resolves with the digest computed on a thread', async () => {
    pool = createCpuPool({ size: 1 })
    const job = hashJobRecord(500)
    const signal = new AbortController().signal
    expect(await hashJob(pool).run(job, { signal })).toBe(hashChain(500))
  })

  it('cpu-pool-honours-signal: a timer can abort work on the pool', async () => {
    pool = createCpuPool({ size: 1 })
    await pool.hash(1) // a ready thread: the job runs on it at once
    const controller = new AbortController()
    const run = hashJob(pool).run(hashJobRecord(MAX_HASH_ROUNDS), controller)
    setTimeout(() => controller.abort(new Error('timed out')), 0)
    await expect(run).rejects.toThrow('timed out')
    expect(pool.threads).toBe(0)
  })
})

describe('blockingHashJob', () => {
  it('cpu-blocking-ignores-signal: a 0 ms timer cannot abort the blocking handler: its chain returns before the timer fires', async () => {
    const steps: string[] = []
    const controller = new AbortController()
    const fired = new Promise<void>((resolve) =>
      setTimeout(() => {
        steps.push('timer fires')
        controller.abort(new Error('timed out'))
        resolve()
      }, 0),
    )
    const run = blockingHashJob.run(hashJobRecord(20_000), controller)
    // The chain ran to its end inside run(): the timer has not fired.
    expect(controller.signal.aborted).toBe(false)
    const digest = await run.then((value) => {
      steps.push('handler returns')
      return value
    })
    expect(digest).toBe(hashChain(20_000))
    await fired
    // A handler that waited before or while computing would let the timer
    // abort its signal first, and refuse or stop.
    expect(steps).toEqual(['handler returns', 'timer fires'])
  })

  it('refuses to start once its signal has aborted', async () => {
    const signal = AbortSignal.abort(new Error('canceled'))
    await expect(
      blockingHashJob.run(hashJobRecord(10), { signal }),
    ).rejects.toThrow('canceled')
  })
})
