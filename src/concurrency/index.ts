// The concurrency primitives, in one import. Each file also stands alone.
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
