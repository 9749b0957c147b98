import { expect, it } from 'vitest'
import {
  drain,
  drainCheckingClosed,
  filledAndClosed,
} from '../../src/examples/channels-check-closed.ts'

it('channels-check-closed-loses-jobs: a consumer that stops when the channel is closed leaves the queued jobs unhandled', async () => {
  const jobs = filledAndClosed(3)
  const handled: string[] = []
  await drainCheckingClosed(jobs, (id) => handled.push(id))
  expect(handled).toEqual([])
  expect(jobs.length).toBe(3) // still there, and nobody will take them
})

it('channels-drain-until-ok-false: a consumer that receives until ok is false handles every job sent before close', async () => {
  const jobs = filledAndClosed(3)
  const handled: string[] = []
  await drain(jobs, (id) => handled.push(id))
  expect(handled).toEqual(['job-1', 'job-2', 'job-3'])
  expect(jobs.length).toBe(0)
})
