import { describe, expect, it } from 'vitest'
import { Backlog } from '../../src/jobs/backlog.ts'
import { deferred } from './support.ts'

describe('Backlog', () => {
  it('backpressure-count-bounded: reads the waiting count at most once per interval, counting no further than capacity + 1', async () => {
    let now = 0
    const asked: number[] = []
    let waiting = 3
    const backlog = new Backlog({
      store: { countWaiting: async (upTo) => (asked.push(upTo), Math.min(waiting, upTo)) },
      capacity: 5,
      refreshMs: 100,
      now: () => now,
    })
    expect(await backlog.isFull()).toBe(false)
    backlog.added()
    backlog.added()
    waiting = 1_000
    // Within the interval: the last count plus what was added here.
    expect(await backlog.estimate()).toBe(5)
    expect(await backlog.isFull()).toBe(true)
    expect(asked).toEqual([6])
    now = 100
    expect(await backlog.estimate()).toBe(6)
    expect(asked).toEqual([6, 6])
  })

  it('backpressure-one-read: concurrent requests share one count', async () => {
    const gate = deferred<number>()
    let reads = 0
    const backlog = new Backlog({
      store: { countWaiting: () => (reads++, gate.promise) },
      capacity: 5,
    })
    const answers = Promise.all([backlog.isFull(), backlog.isFull(), backlog.isFull()])
    gate.resolve(5)
    expect(await answers).toEqual([true, true, true])
    expect(reads).toBe(1)
  })
})
