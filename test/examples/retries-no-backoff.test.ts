import { expect, it } from 'vitest'
import { runThrough } from '../../src/examples/retries-no-backoff.ts'
import { DEFAULT_RETRY_POLICY } from '../../src/jobs/retry.ts'

it('retries-no-backoff: retried at once, a job whose upstream is down for two seconds spends its four attempts within the outage and fails for good', async () => {
  expect(await runThrough({ baseMs: 0, maxMs: 0, random: () => 0.5 })).toEqual({
    startedAt: [0, 0, 0, 0],
    status: 'failed',
  })
})

it('retries-no-backoff: with the default backoff, the same job waits out the outage and completes', async () => {
  // Whatever the jitter draws: half the ceiling is fixed, so the third
  // attempt starts at least 500 + 1000 ms in, and the fourth 3500 ms in.
  for (const draw of [0, 0.5, 0.999]) {
    const { status, startedAt } = await runThrough({ ...DEFAULT_RETRY_POLICY, random: () => draw })
    expect(status).toBe('completed')
    expect(startedAt.at(-1)).toBeGreaterThanOrEqual(2_000)
  }
})
