import { expect, it } from 'vitest'
import { CheckThenSetStore } from '../../src/examples/store-double-claim.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'

it('store-await-breaks-claim: with an await between the check and the set, two claimers at once both take the one job', async () => {
  const racy = new CheckThenSetStore()
  racy.add('job-1')
  const took = await Promise.all([racy.claim('a', 'job-1'), racy.claim('b', 'job-1')])
  expect(took).toEqual([true, true])
  // One after the other, the check works: only the gap lets both in.
  expect(await racy.claim('c', 'job-1')).toBe(false)
})

it('store-await-breaks-claim: the memory store\'s claim, with no await between them, gives the job to one of them', async () => {
  const store = new MemoryStore()
  const { job } = await store.create({ type: 'noop' })
  const claims = await Promise.all(['a', 'b'].map((owner) => store.claim(owner, 1, 60_000)))
  expect(claims.map((c) => c.length).sort()).toEqual([0, 1])
  expect(claims.flat()[0]?.job.id).toBe(job.id)
})
