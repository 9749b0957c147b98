import { expect, it } from 'vitest'
import { Channel } from '../../src/concurrency/channel.ts'
import { spawn } from '../../src/concurrency/task.ts'
import { merge } from '../../src/examples/select-fan-in.ts'

it('select-fan-in: merge passes on every value of every channel once, in each channel\'s order, and returns when all are closed', async () => {
  const channels = [new Channel<number>(), new Channel<number>(2)]
  const producers = channels.map((ch, c) =>
    spawn(`producer ${c}`, async () => {
      for (let i = 0; i < 100; i++) await ch.send(c * 1000 + i)
      ch.close()
    }),
  )
  const merged: number[] = []
  await merge(channels, (n) => merged.push(n))
  await Promise.all(producers)

  expect(merged).toHaveLength(200)
  for (const c of [0, 1]) {
    const fromC = merged.filter((n) => Math.floor(n / 1000) === c)
    expect(fromC).toEqual(Array.from({ length: 100 }, (_, i) => c * 1000 + i))
  }
})
