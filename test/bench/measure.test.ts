import { describe, expect, it } from 'vitest'
import {
  cited,
  difference,
  interleave,
  measured,
  ratio,
  statusOf,
  summarize,
} from '../../bench/lib/measure.ts'

const context = { tiny: true, rounds: 4, log: () => {} }

describe('bench figures', () => {
  it('summarize gives the median, min and max of the rounds', () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5 })
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 })
  })

  it('a ratio is taken round by round, then summarized', () => {
    const of = measured('a', 'a', 'ops/s', [10, 40, 90])
    const to = measured('b', 'b', 'ops/s', [10, 20, 30])
    // Per round: 1, 2, 3; the ratio of the medians would be 40/20 = 2 too,
    // but its min would not be 1.
    expect(ratio('a/b', 'a ÷ b', of, to)).toMatchObject({ median: 2, min: 1, max: 3 })
  })

  it('a difference is taken round by round, in the unit of its figures', () => {
    const of = measured('a', 'a', 'ms', [110, 150, 120])
    const to = measured('b', 'b', 'ms', [100, 100, 100])
    expect(difference('a-b', 'a − b', of, to)).toMatchObject({
      unit: 'ms',
      median: 20,
      min: 10,
      max: 50,
    })
  })

  it('a cited figure stands for the same value in every round', () => {
    const task = measured('task', 'task', 'B', [1024, 3072])
    const go = cited('go', 'go', 'B', 2048, 'Go runtime')
    expect(ratio('t/g', 't ÷ g', task, go).rounds).toEqual([0.5, 1.5])
  })

  it('a goal is judged on the median', () => {
    const figure = measured('x', 'x', '×', [0.1, 0.6, 0.7], { op: '>=', value: 0.5 })
    expect(figure.met).toBe(true)
    const slow = measured('y', 'y', 'ms', [90, 120, 130], { op: '<=', value: 100 })
    expect(slow.met).toBe(false)
    expect(statusOf([figure])).toBe('met')
    expect(statusOf([figure, slow])).toBe('missed')
    expect(statusOf([measured('z', 'z', 'B', [1])])).toBe('report')
  })

  it('interleave runs the variants forward, then backward, round after round', async () => {
    const order: string[] = []
    const values = await interleave(context, {
      a: async () => (order.push('a'), 1),
      b: async () => (order.push('b'), 2),
    })
    expect(order).toEqual(['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a'])
    expect(values).toEqual({ a: [1, 1, 1, 1], b: [2, 2, 2, 2] })
  })
})
