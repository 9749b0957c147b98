/**
 * What `select` costs over a plain `recv`: a producer hands n values, one
 * at a time, to a consumer; the consumer either `recv`s from the one
 * channel, or `select`s over k channels while the producer sends on them
 * in turn (so the ready case moves every time).
 */
import { Channel } from '../../src/concurrency/channel.ts'
import { recv, select } from '../../src/concurrency/select.ts'
import type { Benchmark } from '../lib/benchmark.ts'
import { difference, interleave, measured, ratio } from '../lib/measure.ts'
import type { Figure } from '../lib/types.ts'

/** Nanoseconds per value: `await send` on one channel, `await recv()`. */
export async function recvLoop(n: number): Promise<number> {
  const channel = new Channel<number>()
  let sum = 0
  const start = performance.now()
  await Promise.all([
    (async () => {
      for (let i = 0; i < n; i++) await channel.send(i)
    })(),
    (async () => {
      for (let got = 0; got < n; got++) {
        const received = await channel.recv()
        if (received.ok) sum += received.value
      }
    })(),
  ])
  return nsPer(start, n, sum, n)
}

/** Nanoseconds per value: sends on channel i mod k, `select` over all k. */
export async function selectLoop(n: number, k: number): Promise<number> {
  const channels = Array.from({ length: k }, () => new Channel<number>())
  const cases = channels.map((channel) => recv(channel))
  let sum = 0
  const start = performance.now()
  await Promise.all([
    (async () => {
      for (let i = 0; i < n; i++) await (channels[i % k] as Channel<number>).send(i)
    })(),
    (async () => {
      for (let got = 0; got < n; got++) {
        const selected = await select(cases)
        if (selected.ok) sum += selected.value
      }
    })(),
  ])
  return nsPer(start, n, sum, n)
}

function nsPer(start: number, n: number, sum: number, expected: number): number {
  const elapsed = performance.now() - start
  if (sum !== (expected * (expected - 1)) / 2) throw new Error('lost values')
  return (elapsed * 1e6) / n
}

export const selectBench: Benchmark = {
  id: 'select-overhead',
  title: '`select` over 2 and 8 channels',
  against: 'a single `recv` on one channel',
  goal: 'report the overhead per case',
  async run(context) {
    const n = context.tiny ? 1_000 : 100_000
    const values = await interleave(context, {
      recv: () => recvLoop(n),
      select2: () => selectLoop(n, 2),
      select8: () => selectLoop(n, 8),
    })
    const unit = 'ns/value'
    const single = measured('recv', 'recv on 1 channel', unit, values.recv)
    const two = measured('select2', 'select over 2', unit, values.select2)
    const eight = measured('select8', 'select over 8', unit, values.select8)
    const perCase = (figure: Figure, k: number): Figure => {
      const extra = difference(`${figure.key}-recv`, '', figure, single)
      return measured(
        `${figure.key}/case`,
        `${figure.label}: overhead per case`,
        unit,
        extra.rounds.map((ns) => ns / k),
      )
    }
    return {
      sides: [
        {
          name: 'recv',
          does:
            'one unbuffered channel; a producer `await send(i)`s n values, ' +
            'a consumer `await recv()`s n times',
        },
        {
          name: 'select',
          does:
            'k unbuffered channels; the producer sends value i on channel ' +
            'i mod k; the consumer `await select(cases)` n times over the ' +
            'same k receive cases (built once)',
        },
      ],
      figures: [
        single,
        two,
        eight,
        ratio('select2/recv', 'select over 2 ÷ recv', two, single),
        ratio('select8/recv', 'select over 8 ÷ recv', eight, single),
        perCase(two, 2),
        perCase(eight, 8),
      ],
      charts: [
        {
          title: 'time per value handed over',
          unit,
          keys: ['recv', 'select2', 'select8'],
        },
      ],
      setup:
        `${n.toLocaleString('en')} values per run, ${context.rounds} rounds; ` +
        'overhead per case = (select − recv) ÷ k, round by round',
      notes: [],
    }
  },
}
