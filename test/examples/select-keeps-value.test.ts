import { expect, it } from 'vitest'
import { Channel } from '../../src/concurrency/channel.ts'
import { main, nextJobOrStop } from '../../src/examples/select-keeps-value.ts'

it('select-keeps-value: a select stopped by its signal takes nothing, so the next worker receives the next job', async () => {
  const jobs = new Channel<string>()
  const stop = new AbortController()
  const first = nextJobOrStop(jobs, stop.signal)
  stop.abort()
  await expect(first).resolves.toBeUndefined()

  expect(jobs.trySend('job-1')).toBe(false) // nobody is receiving
  const sending = jobs.send('job-1')
  await expect(nextJobOrStop(jobs, new AbortController().signal)).resolves.toBe(
    'job-1',
  )
  await expect(sending).resolves.toBeUndefined()
})

it('select-keeps-value: the example prints that worker 2 received job-1', async () => {
  const lines: string[] = []
  await main((line) => lines.push(line))
  expect(lines).toEqual([
    'worker 1: stopped',
    'worker 2: job-1',
    'producer: job-1 was taken by worker 2',
  ])
})
