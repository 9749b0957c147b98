import { getEventListeners } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { findLeaks } from '../../src/concurrency/leaks.ts'
import { knownTasks } from '../../src/concurrency/task.ts'
import { WaitGroup } from '../../src/concurrency/wait-group.ts'
import {
  groupFailsFast,
  holdingPromises,
  withWaitGroup,
} from '../../src/examples/waiting-first-failure.ts'
import { saveAllBad } from '../../src/examples/waiting-promise-all.ts'
import { deferred, nextTurn } from '../support/promises.ts'



describe('WaitGroup', () => {
  it('wait() resolves at once when the counter is zero', async () => {
    const wg = new WaitGroup()
    await expect(wg.wait()).resolves.toBeUndefined()
  })

  it('wait() resolves when the counter comes back to zero, not before', async () => {
    const wg = new WaitGroup()
    wg.add(2)
    let waited = false
    const waiting = wg.wait().then(() => {
      waited = true
    })
    wg.done()
    await nextTurn()
    expect(waited).toBe(false)
    wg.done()
    await waiting
    expect(waited).toBe(true)
    expect(wg.waiting).toBe(0)
  })

  it('waiting-negative-counter: a WaitGroup throws when its counter would go below zero, and keeps its count', () => {
    const wg = new WaitGroup()
    wg.add(1)
    wg.done()
    expect(() => wg.done()).toThrow(RangeError)
    expect(() => wg.add(-2)).toThrow('WaitGroup counter went below zero')
    expect(wg.count).toBe(0)
  })

  it('rejects a count that is not an integer', () => {
    expect(() => new WaitGroup().add(0.5)).toThrow(TypeError)
    expect(() => new WaitGroup().add(0.5)).toThrow('Expected `n` to be an integer, got `0.5`')
  })

  it('waiting-wait-abortable: wait({ signal }) rejects with the reason on abort and leaves nothing behind', async () => {
    const wg = new WaitGroup()
    wg.add(1)
    const controller = new AbortController()
    const waiting = wg.wait({ signal: controller.signal })
    expect(wg.waiting).toBe(1)
    controller.abort(new Error('gave up'))
    await expect(waiting).rejects.toThrow('gave up')
    expect(wg.waiting).toBe(0)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    expect(wg.count).toBe(1) // the signal stops the waiting, not the work
    wg.done()
  })

  it('wait({ signal }) removes its listener once the counter reaches zero', async () => {
    const wg = new WaitGroup()
    wg.add(1)
    const controller = new AbortController()
    const waiting = wg.wait({ signal: controller.signal })
    wg.done()
    await waiting
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it('wait({ signal }) rejects at once on an aborted signal', async () => {
    const wg = new WaitGroup()
    wg.add(1)
    const signal = AbortSignal.abort('late')
    await expect(wg.wait({ signal })).rejects.toBe('late')
    expect(wg.waiting).toBe(0)
    wg.done()
  })

  it('go() counts a spawned task until it settles, even when it fails', async () => {
    const wg = new WaitGroup()
    const gate = deferred()
    const ok = wg.go(() => gate.promise, 'ok')
    const failing = wg.go(async () => {
      await gate.promise
      throw new Error('boom')
    }, 'failing')
    expect(wg.count).toBe(2)
    expect(knownTasks().map((t) => t.name)).toEqual(
      expect.arrayContaining(['ok', 'failing']),
    )
    gate.resolve()
    await wg.wait()
    expect(wg.count).toBe(0)
    await expect(ok).resolves.toBeUndefined()
    await expect(failing).rejects.toThrow('boom')
  })
})

describe('waiting for tasks (src/examples/waiting-first-failure.ts)', () => {
  it('waiting-wait-group: wait() returns after every worker is done', async () => {
    const lines: string[] = []
    await withWaitGroup((line) => lines.push(line))
    expect(lines.at(-1)).toBe('all workers done')
    expect(lines).toHaveLength(4)
  })

  it('waiting-hold-the-promise: Promise.all over the tasks gives every result, in spawn order', async () => {
    const lines: string[] = []
    await holdingPromises((line) => lines.push(line))
    expect(lines).toEqual(['results: 1, 4, 9'])
  })

  it('waiting-first-failure-aborts: in a TaskGroup the first failure aborts the others, and wait() rejects with it after they stop', async () => {
    const lines: string[] = []
    await groupFailsFast((line) => lines.push(line))
    expect(lines).toEqual(['slow stopped: aborted', 'wait() rejected: disk full'])
  })
})

describe('the wrong way to wait (src/examples/waiting-promise-all.ts)', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('waiting-promise-all-gives-up: at the first failure Promise.all rejects while the other task runs on; the owner returns, and the leak check names the task', async () => {
    vi.useFakeTimers()
    const lines: string[] = []
    const out = (line: string) => lines.push(line)
    const owner = saveAllBad(out)
    await vi.advanceTimersByTimeAsync(10) // 'fails' fails
    const left = await owner
    expect(lines).toEqual(['Promise.all rejected: disk full', 'owner returned'])
    expect(findLeaks().map((leak) => leak.name)).toEqual(['slow'])
    await vi.advanceTimersByTimeAsync(40)
    await Promise.allSettled(left)
    expect(lines.at(-1)).toBe('slow: wrote its file')

    // The TaskGroup of the right way stops the other task first.
    lines.length = 0
    const group = groupFailsFast(out)
    await vi.advanceTimersByTimeAsync(10)
    await group
    expect(lines).toEqual(['slow stopped: aborted', 'wait() rejected: disk full'])
    expect(findLeaks()).toEqual([])
  })
})
