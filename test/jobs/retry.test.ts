import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay, DEFAULT_RETRY_POLICY, hasRetriesLeft } from '../../src/jobs/retry.ts'
import { seededRandom } from './support.ts'

const policy = { baseMs: 1_000, maxMs: 60_000 }

describe('backoffDelay', () => {
  it('retries-backoff-doubles: with no jitter drawn, the delay is half the ceiling, and the ceiling doubles up to the cap', () => {
    const low = { ...policy, random: () => 0 }
    const high = { ...policy, random: () => 0.999_999 }
    const attempts = [1, 2, 3, 4, 5, 6, 7, 8]
    expect(attempts.map((n) => backoffDelay(n, low))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ])
    expect(attempts.map((n) => backoffDelay(n, high))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000,
    ])
  })

  it('retries-jitter-bounds: every delay lies between half the ceiling and the ceiling, never past the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, extra, r) => {
          const maxMs = baseMs + extra
          const delay = backoffDelay(attempt, { baseMs, maxMs, random: () => r })
          const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1))
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2))
          expect(delay).toBeLessThanOrEqual(ceiling)
        },
      ),
    )
  })

  it('retries-seeded-delays: a seeded generator gives the same delays on every run', () => {
    const run = () => {
      const seeded = { ...policy, random: seededRandom(42) }
      return [1, 2, 3, 4, 5].map((n) => backoffDelay(n, seeded))
    }
    const first = run()
    expect(run()).toEqual(first)
    expect(new Set(first).size).toBe(5)
  })

  it('uses one second doubling to a minute by default', () => {
    expect([DEFAULT_RETRY_POLICY.baseMs, DEFAULT_RETRY_POLICY.maxMs]).toEqual([1_000, 60_000])
  })
})

describe('hasRetriesLeft', () => {
  it('retries-count: max_retries 3 allows four attempts: the first, then three retries', () => {
    const left = [1, 2, 3, 4, 5].map((attempts) => hasRetriesLeft({ attempts, max_retries: 3 }))
    expect(left).toEqual([true, true, true, false, false])
    expect(hasRetriesLeft({ attempts: 1, max_retries: 0 })).toBe(false)
  })
})
