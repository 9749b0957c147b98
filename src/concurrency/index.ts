// The concurrency primitives, in one import. Each file also stands alone.
// With `.js` import specifiers, write `./channel.js` and so on (see the
// note in select.ts).
//
// Usage (test/concurrency/copyable.test.ts runs it on a copy of the folder):
//
// ```ts
// import { Channel, spawn } from './index.ts'
//
// const answers = new Channel<number>()
// const sender = spawn('sender', () => answers.send(42))
// console.log(await answers.recv()) // → { value: 42, ok: true }
// await sender
// ```
export { Channel, ChannelClosedError, type Received } from './channel.ts'
export { recv, select, send, trySelect } from './select.ts'
export {
  creationSite,
  knownTasks,
  spawn,
  stackLocations,
  TaskGroup,
  type SpawnOptions,
  type Task,
  type TaskGroupOptions,
  type TaskState,
} from './task.ts'
export { WaitGroup } from './wait-group.ts'
export { abortable, sleep, type AbortOptions } from './abort.ts'
export {
  expectNoLeaks,
  findLeaks,
  forgetLeaks,
  formatLeaks,
  LeakError,
  trackLeaks,
  type Leak,
  type TrackOptions,
} from './leaks.ts'
