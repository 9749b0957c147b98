// Several senders on one channel: who closes it. Not a sender (the others
// would send on a closed channel), but the owner that waits for all of
// them, here with a WaitGroup.
import { Channel, ChannelClosedError } from '../concurrency/channel.ts'
import { WaitGroup } from '../concurrency/wait-group.ts'
import { runIfMain, type Out } from './run.ts'

const SENDERS = ['a', 'b', 'c']

/** Each sender sends its name with 1, 2 and 3 after it. */
async function sendThree(name: string, results: Channel<string>) {
  for (const n of [1, 2, 3]) await results.send(`${name}${n}`)
}

// #region sender-closes
/** The wrong way: the first sender to finish closes the channel. */
export async function senderCloses(out: Out): Promise<void> {
  const results = new Channel<string>()
  const senders = SENDERS.map(async (name) => {
    await sendThree(name, results)
    if (!results.closed) results.close() // "I am done, so all are"
  })
  const received: string[] = []
  for await (const value of results) received.push(value)
  const closedOnThem = (await Promise.allSettled(senders)).filter(
    (end) => end.status === 'rejected',
  ).filter((end) => end.reason instanceof ChannelClosedError)
  out(`sender closes: received ${received.length} of 9, ` +
    `${closedOnThem.length} senders failed: send on closed channel`)
}
// #endregion sender-closes

// #region owner-closes
/** The right way: the owner closes once every sender is done. */
export async function ownerCloses(out: Out): Promise<void> {
  const results = new Channel<string>()
  const senders = new WaitGroup()
  for (const name of SENDERS) senders.go(() => sendThree(name, results))
  // Closing is the owner's job, after the last send of the last sender.
  const closing = senders.wait().then(() => results.close())
  const received: string[] = []
  for await (const value of results) received.push(value)
  await closing
  out(`owner closes: received ${received.length} of 9: ` +
    received.sort().join(' '))
}
// #endregion owner-closes

export async function main(out: Out): Promise<void> {
  await senderCloses(out)
  await ownerCloses(out)
}

runIfMain(import.meta.url, main)
