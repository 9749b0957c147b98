import { expect, it } from 'vitest'
import { Channel } from '../../src/concurrency/channel.ts'
import { nextJobOrStop } from '../../src/examples/select-race-loses-value.ts'

it('select-race-loses-value: after Promise.race lets the stop win, the next job sent is taken and handled by nobody', async () => {
  const jobs = new Channel<string>()
  const stop = new AbortController()
  const first = nextJobOrStop(jobs, stop.signal)
  stop.abort()
  await expect(first).resolves.toBeUndefined()

  // The abandoned receive still waits on the channel: a send that should
  // wait for the next worker succeeds at once instead...
  expect(jobs.trySend('job-1')).toBe(true)
  // ...and no worker can ever receive job-1.
  expect(jobs.tryRecv()).toBeUndefined()
})
