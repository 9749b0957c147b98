import { expect, it } from 'vitest'
import { Channel } from '../../src/concurrency/channel.ts'
import { work } from '../../src/examples/select-worker.ts'

it('select-worker-closed: the worker handles every queued job in order, then stops when the channel is closed and drained', async () => {
  const jobs = new Channel<string>(3)
  for (const id of ['a', 'b', 'c']) jobs.trySend(id)
  jobs.close()
  const handled: string[] = []
  const stopped = await work(jobs, new AbortController().signal, async (id) => {
    handled.push(id)
  })
  expect(stopped).toBe('closed')
  expect(handled).toEqual(['a', 'b', 'c'])
})

it('select-worker-aborted: a worker whose signal aborts while it waits stops and takes no job', async () => {
  const jobs = new Channel<string>()
  const controller = new AbortController()
  const stopped = work(jobs, controller.signal, async () => {})
  controller.abort()
  await expect(stopped).resolves.toBe('aborted')
  expect(jobs.trySend('job-1')).toBe(false) // its receive was withdrawn
})

it('select-worker-aborted: a worker aborted during a job passes the signal to the handler and takes no further job', async () => {
  const jobs = new Channel<string>(2)
  jobs.trySend('job-1')
  jobs.trySend('job-2')
  const controller = new AbortController()
  const seen: string[] = []
  const stopped = await work(jobs, controller.signal, async (id, signal) => {
    seen.push(id)
    controller.abort()
    expect(signal.aborted).toBe(true)
  })
  expect(stopped).toBe('aborted')
  expect(seen).toEqual(['job-1'])
  expect(jobs.tryRecv()).toEqual({ value: 'job-2', ok: true })
})

it('a handler failure is not mistaken for a stop: work rejects with it', async () => {
  const jobs = new Channel<string>(1)
  jobs.trySend('job-1')
  const failure = new Error('handler failed')
  await expect(
    work(jobs, new AbortController().signal, async () => {
      throw failure
    }),
  ).rejects.toBe(failure)
})
