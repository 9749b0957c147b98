import { expect, it } from 'vitest'
import { StatusCheckedStore, story } from '../../src/examples/durable-unfenced-finish.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'

it('durable-unfenced-overwrites: a finish checked only by status writes a stale attempt\'s result over the rescued job, and refuses the new attempt\'s', async () => {
  expect(await story((o) => new StatusCheckedStore(o))).toEqual({
    staleWritten: true,
    newWritten: false,
    status: 'failed',
    attempts: 2,
  })
})

it('durable-unfenced-overwrites: fenced by the lease, the stale result is refused and the new attempt\'s stands', async () => {
  expect(await story((o) => new MemoryStore(o))).toEqual({
    staleWritten: false,
    newWritten: true,
    status: 'completed',
    attempts: 2,
  })
})
