import { describe, expect, it } from 'vitest'
import { InvalidPayloadError } from '../../src/jobs/errors.ts'
import { defaultHandlers, failJob, sleepJob } from '../../src/jobs/handlers.ts'
import { newJob, type Job } from '../../src/jobs/job.ts'

const now = new Date('2030-01-01T00:00:00.000Z')

function attempt(payload: unknown, attempts: number): Job {
  return { ...newJob({ type: 'fail', payload }, 'id', now), status: 'processing', attempts }
}

const signal = new AbortController().signal

describe('the fail job type', () => {
  it('retries-fail-every-attempt: with no payload, fail fails every attempt', async () => {
    for (const n of [1, 2, 10]) {
      await expect(failJob.run(attempt(null, n), { signal })).rejects.toThrow(
        `attempt ${n} failed on purpose`,
      )
    }
  })

  it('retries-fail-times: with payload.times, fail fails only its first `times` attempts', async () => {
    const outcomes = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        failJob.run(attempt({ times: 2 }, n), { signal }).then(
          () => 'ok',
          () => 'failed',
        ),
      ),
    )
    expect(outcomes).toEqual(['failed', 'failed', 'ok', 'ok'])
  })

  it.each([{ times: -1 }, { times: 1.5 }, { times: '2' }, { times: 1001 }, [], 'x'])(
    'refuses the payload %j',
    (payload) => {
      expect(() => failJob.validate?.(payload)).toThrow(InvalidPayloadError)
    },
  )

  it('is registered, with sleep, in the default handlers', () => {
    expect(defaultHandlers().names).toEqual(['fail', 'sleep'])
  })
})

describe('the sleep job type', () => {
  it('stops early when its signal aborts', async () => {
    const controller = new AbortController()
    const job = { ...attempt({ ms: 60_000 }, 1), type: 'sleep' }
    const run = sleepJob.run(job, { signal: controller.signal })
    controller.abort(new Error('stop'))
    await expect(run).rejects.toThrow('stop')
  })

  it('with ignore_signal, sleeps its full time whatever its signal says', async () => {
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    const job = { ...attempt({ ms: 0, ignore_signal: true }, 1), type: 'sleep' }
    await expect(sleepJob.run(job, { signal: controller.signal })).resolves.toBeUndefined()
    expect(() => sleepJob.validate?.({ ms: 1, ignore_signal: 'yes' })).toThrow(InvalidPayloadError)
  })
})
