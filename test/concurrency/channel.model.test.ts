// Model-based tests: random sequences of send, trySend, recv, tryRecv,
// close, abort, select and trySelect run against the real channels and
// against a reference model of Go's rules, written for plainness (arrays,
// explicit loops, no promises). After every step each operation must have
// settled exactly as the model says (or still be pending), and at the end
// no value may be lost, duplicated or reordered.
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Channel, ChannelClosedError } from '../../src/concurrency/channel.ts'
import { recv, select, send, trySelect } from '../../src/concurrency/select.ts'

type Signal = 'none' | 'live' | 'aborted'
interface CaseSpec {
  op: 'recv' | 'send'
  ch: number
}
type Command =
  | { t: 'send'; ch: number; signal: Signal }
  | { t: 'trySend'; ch: number }
  | { t: 'recv'; ch: number; signal: Signal }
  | { t: 'tryRecv'; ch: number }
  | { t: 'close'; ch: number }
  | { t: 'abort'; pick: number }
  | { t: 'select'; cases: CaseSpec[]; signal: Signal }
  | { t: 'trySelect'; cases: CaseSpec[] }

type Outcome =
  | { state: 'pending' }
  | { state: 'fulfilled'; value: unknown }
  | { state: 'rejected'; reason: 'closed' | 'aborted' | string }

const ABORTED = new Error('aborted by the test')
const pending: Outcome = { state: 'pending' }
const fulfilled = (value: unknown): Outcome => ({ state: 'fulfilled', value })
const closedError: Outcome = { state: 'rejected', reason: 'closed' }
const abortedError: Outcome = { state: 'rejected', reason: 'aborted' }

// ---------------------------------------------------------------- the model

type ModelWaiter =
  | { op: number; index: number; kind: 'recv' }
  | { op: number; index: number; kind: 'send'; value: number }

interface ModelChannel {
  capacity: number
  buffer: number[]
  receivers: ModelWaiter[] // in arrival order
  senders: ModelWaiter[]
  closed: boolean
}

type Received = { value: number; ok: true } | { value: undefined; ok: false }

/** Go's channel rules, one step at a time; `outcomes[op]` is each op's fate. */
class Model {
  channels: ModelChannel[]
  outcomes: Outcome[] = []
  selects = new Set<number>() // ops whose result carries a case index

  constructor(capacities: number[]) {
    this.channels = capacities.map((capacity) => ({
      capacity,
      buffer: [],
      receivers: [],
      senders: [],
      closed: false,
    }))
  }

  /** Settles a parked waiter's op and withdraws all of that op's waiters. */
  settle(waiter: ModelWaiter, outcome: Outcome): void {
    for (const c of this.channels) {
      c.receivers = c.receivers.filter((w) => w.op !== waiter.op)
      c.senders = c.senders.filter((w) => w.op !== waiter.op)
    }
    if (outcome.state === 'fulfilled' && this.selects.has(waiter.op)) {
      // A select's result is its case index and what the case gave.
      const received = outcome.value ?? { value: undefined, ok: true }
      outcome = fulfilled({ index: waiter.index, ...(received as object) })
    }
    this.outcomes[waiter.op] = outcome
  }

  trySend(ch: number, value: number): boolean | 'closed' {
    const c = this.channels[ch]!
    if (c.closed) return 'closed'
    const receiver = c.receivers[0]
    if (receiver) {
      this.settle(receiver, fulfilled({ value, ok: true }))
      return true
    }
    if (c.buffer.length < c.capacity) {
      c.buffer.push(value)
      return true
    }
    return false
  }

  tryRecv(ch: number): Received | undefined {
    const c = this.channels[ch]!
    const sender = c.senders[0]
    if (c.buffer.length > 0) {
      const value = c.buffer.shift()!
      if (sender?.kind === 'send') {
        c.buffer.push(sender.value)
        this.settle(sender, fulfilled(undefined))
      }
      return { value, ok: true }
    }
    if (sender?.kind === 'send') {
      this.settle(sender, fulfilled(undefined))
      return { value: sender.value, ok: true }
    }
    return c.closed ? { value: undefined, ok: false } : undefined
  }

  close(ch: number): boolean {
    const c = this.channels[ch]!
    if (c.closed) return false
    c.closed = true
    while (c.receivers[0]) {
      this.settle(c.receivers[0], fulfilled({ value: undefined, ok: false }))
    }
    while (c.senders[0]) this.settle(c.senders[0], closedError)
    return true
  }

  isReady(spec: CaseSpec): boolean {
    const c = this.channels[spec.ch]!
    return spec.op === 'recv'
      ? c.buffer.length > 0 || c.senders.length > 0 || c.closed
      : c.receivers.length > 0 || c.buffer.length < c.capacity
  }

  park(waiter: ModelWaiter, ch: number): void {
    const c = this.channels[ch]!
    if (waiter.kind === 'recv') c.receivers.push(waiter)
    else c.senders.push(waiter)
  }
}

// ------------------------------------------------------------- the harness

interface Op {
  outcome: Outcome
  settledAt: number // order of settlement, for the reordering check
  cases?: { spec: CaseSpec; value: number }[]
  ch?: number
  value?: number
  kind: Command['t']
}

let settleClock = 0

function describeReason(reason: unknown): string {
  if (reason instanceof ChannelClosedError) return 'closed'
  if (reason === ABORTED) return 'aborted'
  return String(reason)
}

function track(op: Op, promise: Promise<unknown>): void {
  promise.then(
    (value) => {
      op.outcome = fulfilled(value)
      op.settledAt = settleClock++
    },
    (reason: unknown) => {
      op.outcome = { state: 'rejected', reason: describeReason(reason) }
      op.settledAt = settleClock++
    },
  )
}

function sync(op: Op, run: () => unknown): void {
  try {
    op.outcome = fulfilled(run())
  } catch (error) {
    op.outcome = { state: 'rejected', reason: describeReason(error) }
  }
  op.settledAt = settleClock++
}

/** Lets every promise reaction that is already due run (not a sleep). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve))

async function runScenario(capacities: number[], commands: Command[]) {
  const channels = capacities.map((n) => new Channel<number>(n))
  const model = new Model(capacities)
  const ops: Op[] = []
  const liveSignals: { op: number; controller: AbortController }[] = []
  let nextValue = 0

  const signalFor = (kind: Signal, op: number) => {
    if (kind === 'none') return undefined
    if (kind === 'aborted') return AbortSignal.abort(ABORTED)
    const controller = new AbortController()
    liveSignals.push({ op, controller })
    return controller.signal
  }

  for (const [step, command] of commands.entries()) {
    const id = ops.length
    const op: Op = { outcome: pending, settledAt: -1, kind: command.t }
    ops.push(op)
    model.outcomes[id] = pending
    const where = () => `step ${step}: ${JSON.stringify(command)}`

    switch (command.t) {
      case 'send': {
        const ch = command.ch % channels.length
        const value = nextValue++
        Object.assign(op, { ch, value })
        const signal = signalFor(command.signal, id)
        track(op, channels[ch]!.send(value, { signal }))
        if (command.signal === 'aborted') {
          model.outcomes[id] = abortedError
        } else {
          const sent = model.trySend(ch, value)
          if (sent === 'closed') model.outcomes[id] = closedError
          else if (sent) model.outcomes[id] = fulfilled(undefined)
          else model.park({ op: id, index: 0, kind: 'send', value }, ch)
        }
        break
      }
      case 'trySend': {
        const ch = command.ch % channels.length
        const value = nextValue++
        Object.assign(op, { ch, value })
        sync(op, () => channels[ch]!.trySend(value))
        const sent = model.trySend(ch, value)
        model.outcomes[id] = sent === 'closed' ? closedError : fulfilled(sent)
        break
      }
      case 'recv': {
        const ch = command.ch % channels.length
        op.ch = ch
        const signal = signalFor(command.signal, id)
        track(op, channels[ch]!.recv({ signal }))
        if (command.signal === 'aborted') {
          model.outcomes[id] = abortedError
        } else {
          const received = model.tryRecv(ch)
          if (received) model.outcomes[id] = fulfilled(received)
          else model.park({ op: id, index: 0, kind: 'recv' }, ch)
        }
        break
      }
      case 'tryRecv': {
        const ch = command.ch % channels.length
        op.ch = ch
        sync(op, () => channels[ch]!.tryRecv())
        model.outcomes[id] = fulfilled(model.tryRecv(ch))
        break
      }
      case 'close': {
        const ch = command.ch % channels.length
        sync(op, () => channels[ch]!.close())
        const closed = model.close(ch)
        model.outcomes[id] = closed ? fulfilled(undefined) : closedError
        break
      }
      case 'abort': {
        const pick = command.pick % (liveSignals.length || 1)
        const live = liveSignals.splice(pick, 1)
        sync(op, () => live[0]?.controller.abort(ABORTED))
        model.outcomes[id] = fulfilled(undefined)
        const target = live[0]?.op ?? -1 // -1: there was no live signal
        if (model.outcomes[target]?.state === 'pending') {
          model.settle({ op: target, index: 0, kind: 'recv' }, abortedError)
        }
        break
      }
      case 'select':
      case 'trySelect': {
        model.selects.add(id)
        const specs = command.cases.map((c) => ({
          op: c.op,
          ch: c.ch % channels.length,
        }))
        op.cases = specs.map((spec) => ({ spec, value: nextValue++ }))
        const cases = op.cases.map(({ spec, value }) =>
          spec.op === 'recv'
            ? recv(channels[spec.ch]!)
            : send(channels[spec.ch]!, value),
        )
        if (command.t === 'select') {
          const signal = signalFor(command.signal, id)
          track(op, select(cases, { signal }))
        } else {
          sync(op, () => trySelect(cases))
        }
        await flush()

        const sendOnClosed = specs.some(
          (s) => s.op === 'send' && model.channels[s.ch]!.closed,
        )
        const ready = specs.flatMap((s, i) => (model.isReady(s) ? [i] : []))
        if (command.t === 'select' && command.signal === 'aborted') {
          model.outcomes[id] = abortedError
        } else if (sendOnClosed) {
          model.outcomes[id] = closedError
        } else if (ready.length === 0) {
          if (command.t === 'trySelect') {
            model.outcomes[id] = fulfilled(undefined)
          } else {
            op.cases.forEach(({ spec, value }, index) =>
              model.park(
                spec.op === 'recv'
                  ? { op: id, index, kind: 'recv' }
                  : { op: id, index, kind: 'send', value },
                spec.ch,
              ),
            )
          }
        } else {
          // The real select chose at random; the model checks the choice
          // was a ready case, then performs that case.
          const chosen = op.outcome.state === 'fulfilled'
            ? (op.outcome.value as { index: number } | undefined)?.index
            : undefined
          if (chosen === undefined || !ready.includes(chosen)) {
            throw new Error(
              `${where()}: chose ${String(chosen)}, ready were ${ready.join()}`,
            )
          }
          const { spec, value } = op.cases[chosen]!
          const result =
            spec.op === 'recv'
              ? model.tryRecv(spec.ch)
              : (model.trySend(spec.ch, value), { value: undefined, ok: true })
          model.outcomes[id] = fulfilled({ index: chosen, ...result })
        }
        break
      }
    }

    await flush()
    for (const [i, real] of ops.entries()) {
      if (!isDeepStrictEqual(real.outcome, model.outcomes[i])) {
        throw new Error(
          `${where()}: op ${i} (${real.kind}) is ` +
            `${JSON.stringify(real.outcome)}, model says ` +
            `${JSON.stringify(model.outcomes[i])}`,
        )
      }
    }
    for (const [i, ch] of channels.entries()) {
      const m = model.channels[i]!
      if (ch.length !== m.buffer.length || ch.closed !== m.closed) {
        throw new Error(`${where()}: channel ${i} length/closed differ`)
      }
    }
  }

  checkConservation(channels, ops)
  return ops.length
}

/**
 * Independent of the model: every value whose send succeeded is received
 * (or still buffered) exactly once, no value whose send failed ever is, and
 * each channel gives its values in the order they went in.
 */
function checkConservation(channels: Channel<number>[], ops: Op[]): void {
  const sent = new Map<number, number>() // value -> channel
  const received: { ch: number; value: number; at: number }[] = []
  for (const op of ops) {
    if (op.outcome.state !== 'fulfilled') continue
    const result = op.outcome.value as
      | { index?: number; value?: number; ok?: boolean }
      | boolean
      | undefined
    const isObject = typeof result === 'object'
    if (op.kind === 'send' || (op.kind === 'trySend' && result === true)) {
      sent.set(op.value!, op.ch!)
    }
    const isReceive = op.kind === 'recv' || op.kind === 'tryRecv'
    if (isReceive && isObject && result.ok) {
      received.push({ ch: op.ch!, value: result.value!, at: op.settledAt })
    }
    if (op.cases && isObject && result.index !== undefined) {
      const { spec, value } = op.cases[result.index]!
      if (spec.op === 'send') sent.set(value, spec.ch)
      else if (result.ok) {
        received.push({ ch: spec.ch, value: result.value!, at: op.settledAt })
      }
    }
  }
  received.sort((a, b) => a.at - b.at)
  for (const [ch, channel] of channels.entries()) {
    if (!channel.closed) channel.close()
    for (let r = channel.tryRecv(); r?.ok; r = channel.tryRecv()) {
      received.push({ ch, value: r.value, at: Infinity })
    }
  }
  const seen = new Set<number>()
  const last = new Map<number, number>()
  for (const { ch, value } of received) {
    if (seen.has(value)) throw new Error(`value ${value} received twice`)
    seen.add(value)
    if (sent.get(value) !== ch) {
      throw new Error(`value ${value} received from ${ch} but not sent there`)
    }
    if ((last.get(ch) ?? -1) > value) {
      throw new Error(`channel ${ch} gave ${value} after ${last.get(ch)}`)
    }
    last.set(ch, value)
  }
  for (const value of sent.keys()) {
    if (!seen.has(value)) throw new Error(`value ${value} was lost`)
  }
}

// ------------------------------------------------------------ the arbitraries

const channelIndex = fc.nat({ max: 2 })
const signal = fc.constantFrom<Signal>('none', 'live', 'live', 'aborted')
const caseSpec = fc.record({
  op: fc.constantFrom<'recv' | 'send'>('recv', 'send'),
  ch: channelIndex,
})
const cases = (minLength: number) =>
  fc.array(caseSpec, { minLength, maxLength: 3 })
const weighted = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({
  weight,
  arbitrary,
})
const command: fc.Arbitrary<Command> = fc.oneof(
  weighted(4, fc.record({ t: fc.constant('send'), ch: channelIndex, signal })),
  weighted(2, fc.record({ t: fc.constant('trySend'), ch: channelIndex })),
  weighted(4, fc.record({ t: fc.constant('recv'), ch: channelIndex, signal })),
  weighted(2, fc.record({ t: fc.constant('tryRecv'), ch: channelIndex })),
  weighted(1, fc.record({ t: fc.constant('close'), ch: channelIndex })),
  weighted(2, fc.record({ t: fc.constant('abort'), pick: fc.nat() })),
  weighted(
    3,
    fc.record({ t: fc.constant('select'), cases: cases(1), signal }),
  ),
  weighted(1, fc.record({ t: fc.constant('trySelect'), cases: cases(0) })),
)
const scenario = fc.record({
  capacities: fc.array(fc.nat({ max: 2 }), { minLength: 1, maxLength: 3 }),
  commands: fc.array(command, {
    minLength: 1,
    maxLength: 40,
    size: 'max',
  }),
})

describe('Channel and select against a model of Go channels', () => {
  // 4,000 sequences of 1 to 40 steps (about 80,000 operations) on one to
  // three channels of capacity 0 to 2.
  it('channels-model: random operation sequences settle as Go would, losing, duplicating and reordering no value', async () => {
    let sequences = 0
    let operations = 0
    await fc.assert(
      fc.asyncProperty(scenario, async ({ capacities, commands }) => {
        operations += await runScenario(capacities, commands)
        sequences++
      }),
      { numRuns: 4_000 },
    )
    expect(sequences).toBeGreaterThanOrEqual(4_000)
    expect(operations).toBeGreaterThan(50_000)
  }, 60_000) // a bound against a hang: it takes a few seconds
})
