import { expect, it } from 'vitest'
import { ownerCloses, senderCloses } from '../../src/examples/channels-many-senders.ts'

it('channels-many-senders: a sender that closes the shared channel makes the others fail and loses their values; the owner that closes after every sender is done gets them all', async () => {
  const lines: string[] = []
  await senderCloses((line) => lines.push(line))
  await ownerCloses((line) => lines.push(line))
  expect(lines).toEqual([
    'sender closes: received 7 of 9, 2 senders failed: send on closed channel',
    'owner closes: received 9 of 9: a1 a2 a3 b1 b2 b3 c1 c2 c3',
  ])
})
