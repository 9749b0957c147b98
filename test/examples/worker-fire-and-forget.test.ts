import { expect, it } from 'vitest'
import { rightWay, wrongWay } from '../../src/examples/worker-fire-and-forget.ts'

it('worker-fire-and-forget: a worker loop that does not await its jobs runs all five at once and returns while they still run', async () => {
  expect(await wrongWay(5)).toEqual({ most: 5, runningAtReturn: 5 })
})

it('worker-fire-and-forget: runWorker runs the same five one at a time and returns after the last has ended', async () => {
  expect(await rightWay(5)).toEqual({ most: 1, runningAtReturn: 0 })
})
