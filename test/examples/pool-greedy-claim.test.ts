import { expect, it } from 'vitest'
import { race } from '../../src/examples/pool-greedy-claim.ts'

it('pool-greedy-claim: a fetcher that claims a batch of four for its one worker holds them all, and the other instance\'s three idle workers run none', async () => {
  expect(await race(() => 4)).toEqual({ heldByA: 4, startedByA: 1, startedByB: 0 })
})

it('pool-greedy-claim: claiming only for idle workers, the first instance holds one job and the other runs three', async () => {
  expect(await race((pool) => pool.idle)).toEqual({ heldByA: 1, startedByA: 1, startedByB: 3 })
})
