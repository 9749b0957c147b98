import { describe, expect, it } from 'vitest'
import { InvalidPayloadError, TimeoutTooLongError } from '../../src/jobs/errors.ts'
import {
  defaultHandlers,
  failJob,
  HandlerRegistry,
  sleepJob,
  stubbornJob,
} from '../../src/jobs/handlers.ts'
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

  it('hostile-no-ignore-signal: refuses a payload asking it to ignore its signal', () => {
    expect(() => sleepJob.validate?.({ ms: 1, ignore_signal: true })).toThrow(
      'sleep: unknown payload field: ignore_signal',
    )
    expect(() => sleepJob.validate?.({ ms: 1, retry: 'never' })).toThrow(
      'sleep: unknown payload field: retry',
    )
    expect(() => sleepJob.validate?.({ ms: 1 })).not.toThrow()
  })
})

describe('the stubborn job type', () => {
  it('sleeps its full time whatever its signal says', async () => {
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    const job = { ...attempt({ ms: 0 }, 1), type: 'stubborn' }
    await expect(stubbornJob.run(job, { signal: controller.signal })).resolves.toBeUndefined()
    expect(() => stubbornJob.validate?.({ ms: -1 })).toThrow(InvalidPayloadError)
  })

  it('hostile-stubborn-not-default: is not among the default types: no client can ask for it', () => {
    expect(defaultHandlers().get('stubborn')).toBeUndefined()
    expect(() => defaultHandlers().check({ type: 'stubborn', payload: { ms: 1 } })).toThrow(
      'unknown job type "stubborn"',
    )
  })
})

describe('a per-type maximum timeout', () => {
  const registry = new HandlerRegistry()
    .register('capped', { run: async () => {}, maxTimeoutMs: 1_000 })
    .register('open', { run: async () => {} })

  it('hostile-type-max-timeout: a job asking for more than its type allows is refused', () => {
    expect(() => registry.check({ type: 'capped', timeout_ms: 1_001 })).toThrow(TimeoutTooLongError)
    expect(() => registry.check({ type: 'capped', timeout_ms: 1_001 })).toThrow(
      'timeout_ms of a capped job must be at most 1000',
    )
    expect(() => registry.check({ type: 'capped', timeout_ms: 1_000 })).not.toThrow()
    expect(() => registry.check({ type: 'open', timeout_ms: 3_600_000 })).not.toThrow()
  })

  it('hostile-type-max-default: a default above the cap is lowered to it', () => {
    expect(registry.defaultTimeoutMs('capped', 120_000)).toBe(1_000)
    expect(registry.defaultTimeoutMs('capped', 500)).toBe(500)
    expect(registry.defaultTimeoutMs('open', 120_000)).toBe(120_000)
    expect(registry.defaultTimeoutMs('unknown', 120_000)).toBe(120_000)
  })

  it('caps sleep at twice its longest sleep, and fail at 10 s', () => {
    expect([sleepJob.maxTimeoutMs, failJob.maxTimeoutMs]).toEqual([120_000, 10_000])
  })
})

describe('HandlerRegistry', () => {
  it('refuses a second handler for a type it has', () => {
    const registry = new HandlerRegistry().register('sleep', sleepJob)
    expect(() => registry.register('sleep', failJob)).toThrow(
      new TypeError('job type "sleep" is already registered'),
    )
    expect(registry.names).toEqual(['sleep'])
  })

  it('says what a bad payload needs, for sleep and for fail', () => {
    const registry = defaultHandlers()
    expect(() => registry.check({ type: 'sleep', payload: { ms: -1 } })).toThrow(
      new InvalidPayloadError('sleep needs payload.ms, an integer from 0 to 60000'),
    )
    expect(() => registry.check({ type: 'fail', payload: { times: 'x' } })).toThrow(
      new InvalidPayloadError('fail takes no payload, or payload.times, an integer from 0 to 1000'),
    )
    expect(() => registry.check({ type: 'fail', payload: null })).not.toThrow()
  })
})
