// goleak for Node: find the tasks, timers, sockets, servers, child
// processes and worker threads that were started and never stopped.
// Imports its sibling task.ts and Node's async_hooks; nothing runs at import
// time: tracking starts with an explicit `trackLeaks()`. With `.js` import
// specifiers, write `./task.js` (see the note in select.ts).
//
// Usage (test/concurrency/copyable.test.ts runs it on a copy of the file):
//
// ```ts
// import { findLeaks, trackLeaks } from './leaks.ts'
// import { spawn } from './task.ts'
//
// const stopTracking = trackLeaks()
// const interval = setInterval(() => {}, 1_000)
// spawn('forgotten', () => new Promise(() => {}))
// console.log(findLeaks().map((leak) => `${leak.kind} ${leak.name ?? ''}`))
// // → [ 'task forgotten', 'interval ' ]
// clearInterval(interval)
// stopTracking()
// ```
import {
  createHook,
  type AsyncHook,
  type HookCallbacks,
} from 'node:async_hooks'
import { creationSite, knownTasks, stackLocations, type Task } from './task.ts'

/** Something started and not stopped, with where it was created. */
export interface Leak {
  /** What leaked: `task`, `interval`, `timeout`, `socket`, `server`... */
  readonly kind: string
  /** A task's name; undefined for other kinds. */
  readonly name?: string | undefined
  /** `file:line:column` of the first user frame that created it. */
  readonly site: string
  /** A task's wait or failure; a server's or socket's address. */
  readonly detail?: string | undefined
}

/** Thrown by {@link expectNoLeaks}: what leaked, one readable line. */
export class LeakError extends Error {
  override readonly name = 'LeakError'
  constructor(readonly leaks: readonly Leak[]) {
    super(formatLeaks(leaks))
  }
}

/** Options of {@link trackLeaks}. */
export interface TrackOptions {
  /**
   * Resources not to report, given their creation stack as locations (top
   * first, Node's internals removed): a test runner's own timers, say.
   */
  ignore?: ((locations: readonly string[]) => boolean) | undefined
}

// Async resource types worth reporting, and what to call them.
const KINDS: Record<string, string> = {
  Timeout: 'timeout',
  TCPWRAP: 'socket',
  TCPSERVERWRAP: 'server',
  PIPEWRAP: 'pipe',
  PIPESERVERWRAP: 'server',
  UDPWRAP: 'udp socket',
  PROCESSWRAP: 'child process',
  WORKER: 'worker thread',
  FSEVENTWRAP: 'file watcher',
  STATWATCHER: 'file watcher',
  SIGNALWRAP: 'signal listener',
}

// Short-lived resources whose callbacks may create the ones above, with no
// user frame on the stack (`server.listen(port, 'localhost')` opens its
// handle after a DNS lookup): remembered briefly, to say who started the
// work. Not `TickObject`: a stack per `nextTick` would slow tests tenfold.
const CARRIERS = new Set(['GETADDRINFOREQWRAP'])
const CARRIERS_KEPT = 2000

interface Resource {
  readonly type: string
  readonly ref: WeakRef<object>
  // The creation stack, then the stacks of the work that led to it.
  readonly origins: readonly Error[]
  readonly trigger: number
}

interface Tracker {
  readonly hook: AsyncHook
  readonly resources: Map<number, Resource>
  readonly before: WeakSet<Task<unknown>>
  readonly ignore: (locations: readonly string[]) => boolean
  // The real timer and clock, kept in case a test installs fake timers.
  readonly setImmediate: typeof setImmediate
  readonly setTimeout: typeof setTimeout
  readonly now: () => number
}

let tracker: Tracker | undefined

function forgetOldest(carriers: Map<number, unknown>): void {
  let excess = carriers.size - CARRIERS_KEPT / 2
  for (const id of carriers.keys()) {
    if (excess-- <= 0) break
    carriers.delete(id)
  }
}

// What each reported leak stands for, and what has been reported already.
const origins = new WeakMap<Leak, object>()
const reported = new WeakSet<object>()

/**
 * Starts recording the resources created from now on (tasks are always
 * known, see `knownTasks()`; only those spawned from now on are reported).
 * Returns the function that stops tracking; if tracking is on already, it
 * stays as it is and the function returned does nothing. Costs a call per
 * promise created while on, and a stack per timer or handle: meant for
 * tests, not production.
 */
// #region track
export function trackLeaks(options: TrackOptions = {}): () => void {
  if (tracker !== undefined) return () => {} // its owner stops it
  const resources = new Map<number, Resource>()
  const hook = createHook({ init: recorder(resources) })
  const current: Tracker = {
    hook,
    resources,
    before: new WeakSet(knownTasks()),
    ignore: options.ignore ?? (() => false),
    setImmediate: globalThis.setImmediate,
    setTimeout: globalThis.setTimeout,
    now: performance.now.bind(performance),
  }
  tracker = current
  hook.enable()
  return () => {
    hook.disable()
    if (tracker === current) tracker = undefined
  }
}
// #endregion track

type Init = NonNullable<HookCallbacks['init']>

/**
 * The `init` hook: records each new resource worth reporting into
 * `resources`, with the stack that created it and those of the work that
 * led to it.
 */
// #region track-init
function recorder(resources: Map<number, Resource>): Init {
  const carriers = new Map<number, readonly Error[]>()
  return (asyncId, type, trigger, resource) => {
    const carrier = CARRIERS.has(type)
    if (!carrier && KINDS[type] === undefined) return
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 32
    const origin = new Error('created here')
    Error.stackTraceLimit = limit
    const origins = [origin, ...(carriers.get(trigger) ?? [])].slice(0, 4)
    if (carrier) {
      carriers.set(asyncId, origins)
      if (carriers.size > CARRIERS_KEPT) forgetOldest(carriers)
      return
    }
    const ref = new WeakRef(resource)
    resources.set(asyncId, { type, ref, origins, trigger })
  }
}
// #endregion track-init

/**
 * What leaked so far: tasks spawned since tracking started that are still
 * running (or failed, and nobody awaited them), and timers, sockets,
 * servers, child processes and worker threads created since then and not
 * closed. Without `trackLeaks()`, only tasks. A cleared or fired timer is
 * not a leak; an unref'ed live interval is.
 */
export function findLeaks(): Leak[] {
  const leaks: Leak[] = []
  for (const task of knownTasks()) {
    if (tracker?.before.has(task) || reported.has(task)) continue
    const leak = taskLeak(task)
    origins.set(leak, task)
    leaks.push(leak)
  }
  if (tracker !== undefined) leaks.push(...resourceLeaks(tracker))
  return leaks
}

function taskLeak(task: Task<unknown>): Leak {
  const now = tracker?.now() ?? performance.now()
  const ms = Math.max(0, Math.round(now - task.startedAt))
  const detail =
    task.state === 'rejected' ? 'failed, never awaited' : `pending ${ms} ms`
  return { kind: 'task', name: task.name, site: task.site, detail }
}

function resourceLeaks(current: Tracker): Leak[] {
  const leaks: Leak[] = []
  for (const [asyncId, resource] of current.resources) {
    const target = resource.ref.deref()
    if (
      target === undefined ||
      reported.has(target) ||
      !isAlive(resource.type, target)
    ) {
      current.resources.delete(asyncId)
      continue
    }
    const stack = resource.origins[0]?.stack
    const locations = stackLocations(stack)
    if (isUntracked(stack) || current.ignore(locations)) {
      current.resources.delete(asyncId)
      continue
    }
    const leak: Leak = {
      kind: kindOf(resource.type, target),
      site: siteOf(current, resource, locations),
      detail: addressOf(resource.type, target),
    }
    origins.set(leak, target)
    leaks.push(leak)
  }
  return leaks
}

function siteOf(
  current: Tracker,
  resource: Resource,
  locations: readonly string[],
): string {
  if (locations.length > 0) return creationSite(resource.origins[0]?.stack)
  // Made by Node in a callback: say which user code started that work...
  for (const origin of resource.origins.slice(1)) {
    if (stackLocations(origin.stack).length > 0) {
      return creationSite(origin.stack)
    }
  }
  // ...or which resource did (a socket that a server accepted).
  const parent = current.resources.get(resource.trigger)
  if (parent === undefined) return 'inside Node (no user frame)'
  const by = KINDS[parent.type] ?? parent.type
  const parentLocations = stackLocations(parent.origins[0]?.stack)
  return `${siteOf(current, parent, parentLocations)} (by the ${by})`
}

// Where a server listens or a socket connects: it tells leaks apart when
// Node opened the handle in a callback, with no user frame to show.
function addressOf(type: string, target: object): string | undefined {
  const handle = target as {
    getsockname?: (out: object) => number
    getpeername?: (out: object) => number
  }
  const out: { address?: string; port?: number } = {}
  if (type === 'TCPSERVERWRAP' && handle.getsockname?.(out) === 0) {
    return `on ${out.address}:${out.port}`
  }
  if (type === 'TCPWRAP' && handle.getpeername?.(out) === 0) {
    return `to ${out.address}:${out.port}`
  }
  return undefined
}

function kindOf(type: string, target: object): string {
  if (type === 'Timeout' && isRepeating(target)) return 'interval'
  return KINDS[type] ?? type
}

// A timer is alive until it fires (once) or is cleared; Node marks both
// with `_destroyed`. A handle's `hasRef()` answers true or false while it
// is open, and undefined once closed.
function isAlive(type: string, target: object): boolean {
  if (type === 'Timeout') {
    return (target as { _destroyed?: boolean })._destroyed !== true
  }
  const hasRef = (target as { hasRef?: () => boolean | undefined }).hasRef
  return typeof hasRef !== 'function' || hasRef.call(target) !== undefined
}

function isRepeating(target: object): boolean {
  const repeat = (target as { _repeat?: number | null })._repeat
  return typeof repeat === 'number'
}

// Timers that Node makes for itself and that no caller can clear: not a
// leak anyone can fix. AbortSignal.timeout() holds its signal weakly; the
// HTTP server caches its Date header for up to a second; fetch (undici)
// runs one shared clock for its own timeouts.
const NODE_OWN_TIMERS = [
  'at AbortSignal.timeout',
  'at cache (node:internal/http:',
  'at refreshTimeout (node:internal/deps/undici/',
]

function isUntracked(stack: string | undefined): boolean {
  return NODE_OWN_TIMERS.some((frame) => stack?.includes(frame) ?? false)
}

/** The report of `leaks`: a count, then each leak, separated by `; `. */
export function formatLeaks(leaks: readonly Leak[]): string {
  const items = leaks.map((leak) => {
    const name = leak.name === undefined ? '' : ` "${leak.name}"`
    const detail = leak.detail === undefined ? '' : ` (${leak.detail})`
    return `${leak.kind}${name}${detail} created at ${leak.site}`
  })
  const count = leaks.length === 1 ? '1 leak' : `${leaks.length} leaks`
  return `${count}: ${items.join('; ')}`
}

/**
 * Stops reporting `leaks`: after a test has failed for them, later tests
 * should not fail for them again.
 */
export function forgetLeaks(leaks: readonly Leak[]): void {
  for (const leak of leaks) {
    const target = origins.get(leak)
    if (target !== undefined) reported.add(target)
  }
}

// #region expect
/**
 * Resolves when nothing has leaked; until `timeoutMs` (default 1000) has
 * passed, retries, first on the next turns of the event loop, then on short
 * timers, as goleak does, because closing a socket or settling a task takes
 * a turn or two. Then throws a {@link LeakError} naming every leak, and
 * forgets them, so that each leak fails one check, not every later one.
 * Returns at once when nothing leaked, and leaves no timer behind.
 */
export async function expectNoLeaks(
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const { timeoutMs = 1000 } = options
  let leaks = findLeaks()
  if (leaks.length === 0) return
  const timers = tracker ?? globalThis
  const now = tracker?.now ?? (() => performance.now())
  const deadline = now() + timeoutMs
  for (let attempt = 0; leaks.length > 0 && now() < deadline; attempt++) {
    if (attempt < 10) {
      await new Promise((resolve) => timers.setImmediate(resolve))
    } else {
      const ms = Math.min(2 ** (attempt - 10), 50, deadline - now())
      await new Promise((resolve) => timers.setTimeout(resolve, ms))
    }
    leaks = findLeaks()
  }
  if (leaks.length === 0) return
  forgetLeaks(leaks)
  throw new LeakError(leaks)
}
// #endregion expect
