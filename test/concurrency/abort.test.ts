import { getEventListeners } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { abortable, sleep } from '../../src/concurrency/abort.ts'
import {
  OutcomeStore,
  runJob,
  runJobBad,
} from '../../src/examples/cancellation-record-outcome.ts'

afterEach(() => {
  vi.useRealTimers()
})

describe('sleep', () => {
  it('resolves once its time has passed, not before', async () => {
    vi.useFakeTimers()
    let woke = false
    const sleeping = sleep(100).then(() => {
      woke = true
    })
    await vi.advanceTimersByTimeAsync(99)
    expect(woke).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await sleeping
    expect(woke).toBe(true)
  })

  it('cancellation-sleep-clears-timer: sleep rejects with the signal’s reason on abort and clears its timer', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const sleeping = sleep(1000, { signal: controller.signal })
    expect(vi.getTimerCount()).toBe(1)
    const reason = new Error('stop')
    controller.abort(reason)
    await expect(sleeping).rejects.toBe(reason)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('cancellation-sleep-already-aborted: sleep rejects at once on an aborted signal, without creating a timer', async () => {
    vi.useFakeTimers()
    const reason = new Error('already')
    const sleeping = sleep(1000, { signal: AbortSignal.abort(reason) })
    expect(vi.getTimerCount()).toBe(0)
    await expect(sleeping).rejects.toBe(reason)
  })

  it('removes its listener from the signal when it wakes', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const sleeping = sleep(10, { signal: controller.signal })
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(10)
    await sleeping
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })
})

describe('abortable', () => {
  it('settles as the promise does while the signal stays quiet', async () => {
    const controller = new AbortController()
    const { signal } = controller
    await expect(abortable(Promise.resolve(1), { signal })).resolves.toBe(1)
    const failing = Promise.reject(new Error('no'))
    await expect(abortable(failing, { signal })).rejects.toThrow('no')
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
  })

  it('rejects with the signal’s reason when it aborts first', async () => {
    const controller = new AbortController()
    const never = new Promise<never>(() => {})
    const waiting = abortable(never, { signal: controller.signal })
    controller.abort('gave up')
    await expect(waiting).rejects.toBe('gave up')
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it('without a signal, settles as the promise does', async () => {
    await expect(abortable(Promise.resolve(1))).resolves.toBe(1)
    await expect(abortable(Promise.reject(new Error('no')))).rejects.toThrow('no')
  })

  it('rejects at once on an aborted signal', async () => {
    const never = new Promise<never>(() => {})
    const signal = AbortSignal.abort('too late')
    await expect(abortable(never, { signal })).rejects.toBe('too late')
  })
})

describe('recording the outcome of a cancelled job (src/examples/cancellation-record-outcome.ts)', () => {
  it('cancellation-record-lost: saving "failed" under the cancelled signal writes nothing', async () => {
    const store = new OutcomeStore()
    const controller = new AbortController()
    const job = runJobBad('job-1', store, controller.signal)
    controller.abort(new Error('shutting down'))
    await expect(job).rejects.toThrow('shutting down')
    expect(store.outcomes.get('job-1')).toBeUndefined()
  })

  it('cancellation-record-kept: saving it under its own deadline writes "failed"', async () => {
    const store = new OutcomeStore()
    const controller = new AbortController()
    const job = runJob('job-1', store, controller.signal)
    controller.abort(new Error('shutting down'))
    await expect(job).rejects.toThrow('shutting down')
    expect(store.outcomes.get('job-1')).toBe('failed')
  })

  it('cancellation-any: AbortSignal.any aborts with the reason of the first signal that aborts', () => {
    const shutdown = new AbortController()
    const request = new AbortController()
    const signal = AbortSignal.any([shutdown.signal, request.signal])
    request.abort(new Error('client went away'))
    shutdown.abort(new Error('shutting down'))
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toEqual(new Error('client went away'))
  })

  it('cancellation-timeout: AbortSignal.timeout aborts with a TimeoutError', async () => {
    const signal = AbortSignal.timeout(1)
    await new Promise((resolve) => signal.addEventListener('abort', resolve))
    expect(signal.reason).toBeInstanceOf(DOMException)
    expect((signal.reason as DOMException).name).toBe('TimeoutError')
  })

  it('cancellation-timeout-rule: fake timers do not move AbortSignal.timeout; a controller with a setTimeout is driven by them, and clearing it leaves no timer', async () => {
    vi.useFakeTimers()
    const platform = AbortSignal.timeout(60_000)
    const own = new AbortController()
    const timer = setTimeout(() => own.abort(new Error('deadline')), 60_000)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(own.signal.aborted).toBe(true)
    expect(platform.aborted).toBe(false) // it waits for a real minute
    clearTimeout(timer)

    // Work that ends in time clears its deadline: nothing is left behind.
    const early = new AbortController()
    const deadline = setTimeout(() => early.abort(new Error('deadline')), 60_000)
    expect(vi.getTimerCount()).toBe(1)
    clearTimeout(deadline)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(early.signal.aborted).toBe(false)
  })
})
