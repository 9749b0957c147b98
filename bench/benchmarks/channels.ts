/**
 * Moving numbers from producers to consumers: through a `Channel`, through
 * the bare minimum (a plain array and one `await` per value on each side),
 * and through the peers a reader would otherwise reach for, `fastq` and
 * `p-queue`. Every variant moves the values 0..n-1 and returns their sum,
 * so a test can check that each moved every value exactly once.
 */
import fastq from 'fastq'
import PQueue from 'p-queue'
import { Channel } from '../../src/concurrency/channel.ts'
import type { Benchmark } from '../lib/benchmark.ts'
import { interleave, measured, rate, ratio } from '../lib/measure.ts'

// ---- one producer, one consumer ------------------------------------------

/** Producer `await send(i)`s each value then closes; consumer `recv`s. */
export async function channelHandoff(n: number, capacity: number) {
  const channel = new Channel<number>(capacity)
  const produce = async () => {
    for (let i = 0; i < n; i++) await channel.send(i)
    channel.close()
  }
  const [, sum] = await Promise.all([produce(), consume(channel)])
  return sum
}

async function consume(channel: Channel<number>): Promise<number> {
  let sum = 0
  for (;;) {
    const received = await channel.recv()
    if (!received.ok) return sum
    sum += received.value
  }
}

/**
 * The limit: the producer pushes each value on a plain array and awaits
 * once; the consumer shifts each value off with one `await`. Nothing
 * else: no waiting lists, no backpressure, no close.
 */
export async function arrayQueueHandoff(n: number, producers = 1) {
  const queue: number[] = []
  let taken = 0
  let sum = 0
  const produce = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      queue.push(i)
      await undefined
    }
  }
  const consume = async () => {
    while (taken < n) {
      if (queue.length === 0) {
        await undefined // nothing yet: let the producers run
        continue
      }
      taken++
      sum += await (queue.shift() as number)
    }
  }
  return { produce, consume, done: () => sum }
}

/** Runs the limit with `producers` producers and `consumers` consumers. */
export async function arrayQueueFan(
  n: number,
  producers: number,
  consumers: number,
): Promise<number> {
  const { produce, consume, done } = await arrayQueueHandoff(n, producers)
  await Promise.all([
    ...shares(n, producers).map(([from, to]) => produce(from, to)),
    ...Array.from({ length: consumers }, consume),
  ])
  return done()
}

/** fastq, `concurrency` workers: push every value, then wait for drain. */
export async function fastqFan(n: number, producers: number, concurrency: number) {
  let sum = 0
  const queue = fastq.promise(async (value: number) => {
    sum += value
  }, concurrency)
  await Promise.all(
    shares(n, producers).map(async ([from, to]) => {
      for (let i = from; i < to; i++) void queue.push(i)
    }),
  )
  await queue.drained()
  return sum
}

/** p-queue, `concurrency` at once: add every value, then wait for idle. */
export async function pQueueFan(n: number, producers: number, concurrency: number) {
  let sum = 0
  const queue = new PQueue({ concurrency })
  await Promise.all(
    shares(n, producers).map(async ([from, to]) => {
      for (let i = from; i < to; i++) {
        void queue.add(async () => {
          sum += i
        })
      }
    }),
  )
  await queue.onIdle()
  return sum
}

/** `producers` producers and `consumers` consumers on one channel. */
export async function channelFan(
  n: number,
  capacity: number,
  producers: number,
  consumers: number,
): Promise<number> {
  const channel = new Channel<number>(capacity)
  const produce = async (from: number, to: number) => {
    for (let i = from; i < to; i++) await channel.send(i)
  }
  const sending = Promise.all(
    shares(n, producers).map(([from, to]) => produce(from, to)),
  ).then(() => channel.close())
  const sums = await Promise.all(
    Array.from({ length: consumers }, () => consume(channel)),
  )
  await sending
  return sums.reduce((a, b) => a + b, 0)
}

/** 0..n-1 cut into `parts` contiguous ranges `[from, to)`. */
function shares(n: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, p) => [
    Math.floor((n * p) / parts),
    Math.floor((n * (p + 1)) / parts),
  ])
}

const PEERS_DO =
  'the consumer is the same `async (v) => { sum += v }`, run with ' +
  'concurrency 1; the producer pushes every value without awaiting it ' +
  '(the queue is unbounded: this is its best case), then awaits'

// ---- the benchmarks --------------------------------------------------------

export const handoff: Benchmark = {
  id: 'channel-handoff',
  title: 'Channel hand-off, 1 producer → 1 consumer',
  against:
    'the limit: a plain array queue, one `await` per value; ' +
    'peers: fastq and p-queue moving the same values',
  goal:
    'buffered (capacity 1 and 100) ≥ 0.5× the limit and faster than both ' +
    'peers; unbuffered ≥ 0.25× the limit',
  async run(context) {
    const n = context.tiny ? 2_000 : 100_000
    const values = await interleave(context, {
      limit: () => rate(n, () => arrayQueueFan(n, 1, 1)),
      cap0: () => rate(n, () => channelHandoff(n, 0)),
      cap1: () => rate(n, () => channelHandoff(n, 1)),
      cap100: () => rate(n, () => channelHandoff(n, 100)),
      fastq: () => rate(n, () => fastqFan(n, 1, 1)),
      pQueue: () => rate(n, () => pQueueFan(n, 1, 1)),
    })
    const unit = 'values/s'
    const limit = measured('limit', 'array queue (the limit)', unit, values.limit)
    const cap0 = measured('cap0', 'Channel, capacity 0', unit, values.cap0)
    const cap1 = measured('cap1', 'Channel, capacity 1', unit, values.cap1)
    const cap100 = measured('cap100', 'Channel, capacity 100', unit, values.cap100)
    const fq = measured('fastq', 'fastq, concurrency 1', unit, values.fastq)
    const pq = measured('pQueue', 'p-queue, concurrency 1', unit, values.pQueue)
    const atLeast = (value: number) => ({ op: '>=' as const, value })
    const figures = [
      limit,
      cap0,
      cap1,
      cap100,
      fq,
      pq,
      ratio('cap0/limit', 'capacity 0 ÷ limit', cap0, limit, atLeast(0.25)),
      ratio('cap1/limit', 'capacity 1 ÷ limit', cap1, limit, atLeast(0.5)),
      ratio('cap100/limit', 'capacity 100 ÷ limit', cap100, limit, atLeast(0.5)),
      ratio('cap1/fastq', 'capacity 1 ÷ fastq', cap1, fq, atLeast(1)),
      ratio('cap1/pQueue', 'capacity 1 ÷ p-queue', cap1, pq, atLeast(1)),
      ratio('cap100/fastq', 'capacity 100 ÷ fastq', cap100, fq, atLeast(1)),
      ratio('cap100/pQueue', 'capacity 100 ÷ p-queue', cap100, pq, atLeast(1)),
      ratio('cap0/fastq', 'capacity 0 ÷ fastq', cap0, fq),
      ratio('cap0/pQueue', 'capacity 0 ÷ p-queue', cap0, pq),
    ]
    return {
      sides: [
        {
          name: 'Channel',
          does:
            'a producer `await channel.send(i)` for each value, then ' +
            '`close()`; a consumer loops `await channel.recv()` until ' +
            '`ok` is false, adding each value to a sum',
        },
        {
          name: 'the limit',
          does:
            'a producer pushes each value on a plain array and awaits ' +
            'once (`await undefined`); a consumer takes each value with ' +
            'one `await queue.shift()`: one await per value on each ' +
            'side, and nothing else',
        },
        { name: 'fastq', does: `\`fastq.promise\`: ${PEERS_DO} \`drained()\`` },
        { name: 'p-queue', does: `\`new PQueue\`: ${PEERS_DO} \`onIdle()\`` },
      ],
      figures,
      charts: [
        {
          title: 'values per second, relative to the limit',
          unit: '× the limit',
          keys: ['cap0/limit', 'cap1/limit', 'cap100/limit'],
          line: { value: 0.5, label: 'buffered goal 0.5×' },
        },
        {
          title: 'values per second',
          unit: 'values/s',
          keys: ['limit', 'cap0', 'cap1', 'cap100', 'fastq', 'pQueue'],
        },
      ],
      setup: `${n.toLocaleString('en')} values per run, ${context.rounds} rounds`,
      notes: [],
    }
  },
}

export const fan: Benchmark = {
  id: 'channel-fan',
  title: 'Channel fan-out and fan-in, 4 producers × 4 consumers',
  against: 'the same: the array-queue limit, fastq and p-queue',
  goal: 'report',
  async run(context) {
    const n = context.tiny ? 2_000 : 100_000
    const values = await interleave(context, {
      limit: () => rate(n, () => arrayQueueFan(n, 4, 4)),
      cap0: () => rate(n, () => channelFan(n, 0, 4, 4)),
      cap100: () => rate(n, () => channelFan(n, 100, 4, 4)),
      fastq: () => rate(n, () => fastqFan(n, 4, 4)),
      pQueue: () => rate(n, () => pQueueFan(n, 4, 4)),
    })
    const unit = 'values/s'
    const limit = measured('limit', 'array queue (the limit)', unit, values.limit)
    const cap0 = measured('cap0', 'Channel, capacity 0', unit, values.cap0)
    const cap100 = measured('cap100', 'Channel, capacity 100', unit, values.cap100)
    const fq = measured('fastq', 'fastq, concurrency 4', unit, values.fastq)
    const pq = measured('pQueue', 'p-queue, concurrency 4', unit, values.pQueue)
    return {
      sides: [
        {
          name: 'Channel',
          does:
            'four producers each `await send` a quarter of the values; ' +
            'the channel is closed when all four are done; four ' +
            'consumers loop `await recv()` until closed',
        },
        {
          name: 'the limit',
          does:
            'four producers push on one plain array, one `await` per ' +
            'value; four consumers take values with one `await ' +
            'queue.shift()` each (and yield once when it is empty)',
        },
        {
          name: 'fastq, p-queue',
          does:
            'concurrency 4; four producers push their quarter without ' +
            'awaiting; the same `async (v) => { sum += v }` consumer',
        },
      ],
      figures: [
        limit,
        cap0,
        cap100,
        fq,
        pq,
        ratio('cap0/limit', 'capacity 0 ÷ limit', cap0, limit),
        ratio('cap100/limit', 'capacity 100 ÷ limit', cap100, limit),
        ratio('cap100/fastq', 'capacity 100 ÷ fastq', cap100, fq),
        ratio('cap100/pQueue', 'capacity 100 ÷ p-queue', cap100, pq),
      ],
      charts: [
        {
          title: 'values per second',
          unit: 'values/s',
          keys: ['limit', 'cap0', 'cap100', 'fastq', 'pQueue'],
        },
      ],
      setup: `${n.toLocaleString('en')} values per run, ${context.rounds} rounds`,
      notes: [],
    }
  },
}
