import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { Channel } from '../../src/concurrency/channel.ts'
import {
  firstResult,
  offer,
} from '../../src/examples/select-default-and-timeout.ts'

it('select-try-default: offer refuses a job at once when the queue is full, and queues nothing', () => {
  const queue = new Channel<string>(1)
  expect(offer(queue, 'job-1')).toBe('queued job-1')
  expect(offer(queue, 'job-2')).toBe('queue full, job-2 refused')
  expect(queue.length).toBe(1)
})

it('select-timeout: firstResult gives up after its deadline, and a result that comes later stays in the channel', async () => {
  const primary = new Channel<string>()
  const replica = new Channel<string>(1)
  await expect(firstResult(primary, replica, 5)).resolves.toBe(
    'no result within 5 ms',
  )
  expect(primary.trySend('late')).toBe(false) // nobody waits any more
  replica.trySend('answer')
  await expect(firstResult(primary, replica, 1_000)).resolves.toBe('answer')
})

it('select-timeout-unref: a pending AbortSignal.timeout alone does not keep Node running', async () => {
  const program =
    "AbortSignal.timeout(100).addEventListener('abort', () => " +
    "console.log('fired'))"
  const { stdout } = await promisify(execFile)(process.execPath, [
    '-e',
    program,
  ])
  expect(stdout).toBe('') // the process exited before the timeout fired
})
