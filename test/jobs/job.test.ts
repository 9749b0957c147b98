import { describe, expect, expectTypeOf, it } from 'vitest'
import { InvalidPayloadError } from '../../src/jobs/errors.ts'
import {
  canTransition,
  checkPayload,
  deepFreeze,
  depthOf,
  hasStatus,
  IllegalTransitionError,
  isJobStatus,
  MAX_PAYLOAD_DEPTH,
  storableText,
  isFinished,
  JOB_STATUSES,
  newJob,
  transition,
  TRANSITIONS,
  type Job,
  type JobStatus,
  type NextStatus,
  isoString,
} from '../../src/jobs/job.ts'

const now = new Date('2030-01-02T03:04:05.678Z')
const later = new Date('2030-01-02T03:04:06.000Z')

function jobIn(status: JobStatus): Job {
  return { ...newJob({ type: 'noop' }, 'id-1', now), status }
}

// The legal moves, written out by hand: the one list to edit when the
// table changes on purpose. Every test below checks the code against it,
// never against TRANSITIONS itself.
const LEGAL_MOVES = [
  'pending → processing',
  'pending → canceled',
  'processing → pending',
  'processing → retrying',
  'processing → completed',
  'processing → failed',
  'processing → canceled',
  'retrying → processing',
  'retrying → canceled',
] as const

/** The statuses `From` may move to, by `LEGAL_MOVES` (a type, for tsc). */
type ListedNext<From extends JobStatus> =
  (typeof LEGAL_MOVES)[number] extends infer Move
    ? Move extends `${From} → ${infer To}`
      ? To
      : never
    : never

const move = (from: JobStatus, to: JobStatus) => `${from} → ${to}`
const listed = new Set<string>(LEGAL_MOVES)
const allPairs = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as const))
const legal = allPairs.filter(([from, to]) => listed.has(move(from, to)))
const illegal = allPairs.filter(([from, to]) => !listed.has(move(from, to)))

/** Whether `transition` lets a job in `from` move to `to`, at run time. */
function moves(from: JobStatus, to: JobStatus): boolean {
  try {
    transition(jobIn(from), to as never, later)
    return true
  } catch (error) {
    if (error instanceof IllegalTransitionError) return false
    throw error
  }
}

describe('the transition table', () => {
  it('states-table: the table allows exactly these nine moves, and completed, failed and canceled are final', () => {
    expect(JOB_STATUSES).toEqual(['pending', 'processing', 'retrying', 'completed', 'failed', 'canceled'])
    const inTable = JOB_STATUSES.flatMap((from) =>
      (TRANSITIONS[from] as readonly JobStatus[]).map((to) => move(from, to)),
    )
    expect(new Set(inTable)).toEqual(listed)
    expect(inTable).toHaveLength(LEGAL_MOVES.length) // no move listed twice
    expect(JOB_STATUSES.filter(isFinished)).toEqual(['completed', 'failed', 'canceled'])
  })

  it(`states-matrix: all 36 status pairs tried at run time: the ${LEGAL_MOVES.length} listed succeed, the other ${36 - LEGAL_MOVES.length} throw`, () => {
    expect(allPairs).toHaveLength(36)
    const succeeded = allPairs.filter(([from, to]) => moves(from, to)).map(([from, to]) => move(from, to))
    expect(new Set(succeeded)).toEqual(listed)
    expect(allPairs.filter(([from, to]) => canTransition(from, to)).map(([from, to]) => move(from, to))).toEqual(succeeded)
  })

  it.each(legal)('states-legal-succeeds: %s → %s succeeds', (from, to) => {
    expect(canTransition(from, to)).toBe(true)
    const moved = transition(jobIn(from) as Job & { status: typeof from }, to as never, later)
    expect(moved.status).toBe(to)
    expect(moved.updated_at).toBe(later.toISOString())
  })

  it.each(illegal)('states-illegal-throws: %s → %s throws IllegalTransitionError', (from, to) => {
    expect(canTransition(from, to)).toBe(false)
    const attempt = () => transition(jobIn(from), to as never, later)
    expect(attempt).toThrow(IllegalTransitionError)
    expect(attempt).toThrow(`illegal transition: ${from} → ${to}`)
  })

  it('states-compile-time: tsc refuses every move the list lacks where both statuses are literal; those moves throw at run time too', () => {
    // Checked by tsc (npm test runs it over test/), not at run time: for
    // every status, the targets `transition` accepts are exactly the
    // listed ones, so any other literal move is a type error.
    expectTypeOf<{ [S in JobStatus]: NextStatus<S> }>().toEqualTypeOf<{
      [S in JobStatus]: ListedNext<S>
    }>()
    expectTypeOf(transition<'completed'>).parameter(1).toBeNever()
    const done = jobIn('completed') as Job & { status: 'completed' }
    const waiting = jobIn('pending') as Job & { status: 'pending' }
    // The same call with a listed move compiles: the directives below
    // catch the status, not some other mistake in the line.
    expect(transition(waiting, 'canceled', later).status).toBe('canceled')
    // @ts-expect-error: NextStatus<'completed'> is never
    const reopen = () => transition(done, 'pending', later)
    expect(reopen).toThrow(IllegalTransitionError)
    // @ts-expect-error: a waiting job cannot be `retrying` without running
    const skip = () => transition(waiting, 'retrying', later)
    expect(skip).toThrow(IllegalTransitionError)
  })

  it('counts an attempt when a job starts processing, and records last_error', () => {
    const started = transition(jobIn('pending') as Job & { status: 'pending' }, 'processing', later)
    expect(started.attempts).toBe(1)
    const failed = transition(started as Job & { status: 'processing' }, 'failed', later, {
      last_error: 'boom',
    })
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, last_error: 'boom' })
  })
})

describe('newJob', () => {
  it('makes a frozen pending job whose payload is a frozen copy', () => {
    const payload = { nested: { ms: 1 } }
    const job = newJob({ type: 'sleep', payload }, 'id-1', now)
    expect(job).toEqual({
      id: 'id-1',
      type: 'sleep',
      payload: { nested: { ms: 1 } },
      status: 'pending',
      attempts: 0,
      max_retries: 3,
      timeout_ms: 120_000,
      last_error: null,
      run_at: now.toISOString(),
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    })
    payload.nested.ms = 2
    expect(job.payload).toEqual({ nested: { ms: 1 } })
    expect(Object.isFrozen(job)).toBe(true)
    expect(Object.isFrozen((job.payload as typeof payload).nested)).toBe(true)
  })
})

/** `depth` arrays, one inside the other, around `core`. */
function nested(depth: number, core: unknown = null): unknown {
  let value = core
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

describe('payloads a store can keep', () => {
  it('depthOf counts the levels of objects and arrays, the deepest branch', () => {
    for (const scalar of [null, 1, 'a', true]) expect(depthOf(scalar)).toBe(0)
    expect(depthOf({})).toBe(1)
    expect(depthOf({ a: [1, { b: null }] })).toBe(3)
    // The deepest branch counts, wherever it is.
    expect(depthOf([{}, [[[]]], {}])).toBe(4)
    expect(depthOf([[[[]]], {}])).toBe(4)
    // A very deep value is measured no further than the bound.
    expect(depthOf(nested(100_000))).toBe(MAX_PAYLOAD_DEPTH + 1)
  })

  it('checkPayload takes MAX_PAYLOAD_DEPTH levels and refuses one more, saying so', () => {
    expect(() => checkPayload(nested(MAX_PAYLOAD_DEPTH))).not.toThrow()
    expect(() => checkPayload(nested(MAX_PAYLOAD_DEPTH + 1))).toThrow(
      new InvalidPayloadError('payload nests deeper than 32 levels'),
    )
  })

  it('checkPayload refuses a NUL or half a surrogate pair anywhere, scalar, key or value, saying which', () => {
    const nul = new InvalidPayloadError('payload must not contain \\u0000')
    const half = new InvalidPayloadError(
      'payload must be valid Unicode: half a surrogate pair (\\ud800) is not',
    )
    for (const payload of ['a\0', { k: 'a\0' }, { 'a\0': 1 }, nested(5, 'a\0')]) {
      expect(() => checkPayload(payload)).toThrow(nul)
    }
    for (const payload of ['\ud800', { k: '\udfff' }, { '\ud800': 1 }, nested(5, 'x\ud800')]) {
      expect(() => checkPayload(payload)).toThrow(half)
    }
    for (const payload of [undefined, null, 0, true, 'text', '\ud83d\ude00', { a: ['b', 1] }]) {
      expect(() => checkPayload(payload)).not.toThrow()
    }
  })

  it('storableText puts U+FFFD where a NUL or half a pair was, and keeps the rest', () => {
    expect(storableText('a\0b\ud800c\udfff')).toBe('a\ufffdb\ufffdc\ufffd')
    expect(storableText('plain \ud83d\ude00')).toBe('plain \ud83d\ude00')
  })

  it('deepFreeze freezes every level, strings and all, and returns what it froze', () => {
    const value = { a: ['x', { b: 'y' }], c: 'z' }
    expect(deepFreeze(value)).toBe(value)
    expect(Object.isFrozen(value)).toBe(true)
    expect(Object.isFrozen(value.a)).toBe(true)
    expect(Object.isFrozen(value.a[1])).toBe(true)
  })
})

describe('statuses', () => {
  it('isJobStatus names the six statuses and nothing else, not even what objects inherit', () => {
    for (const status of JOB_STATUSES) expect(isJobStatus(status)).toBe(true)
    for (const other of ['x', '', 'toString', '__proto__', 'Pending']) {
      expect(isJobStatus(other)).toBe(false)
    }
  })

  it('hasStatus says whether a job is in a status', () => {
    const job = jobIn('retrying')
    expect(hasStatus(job, 'retrying')).toBe(true)
    expect(hasStatus(job, 'pending')).toBe(false)
  })

  it('an illegal move throws an IllegalTransitionError, by name', () => {
    const error = (() => {
      try {
        transition(jobIn('completed') as never, 'pending' as never, later)
      } catch (thrown) {
        return thrown
      }
    })()
    expect(error).toBeInstanceOf(IllegalTransitionError)
    expect((error as Error).name).toBe('IllegalTransitionError')
  })
})

describe('isoString', () => {
  it('gives toISOString’s text: again for the same millisecond, anew for the next', () => {
    const a = new Date('2026-12-02T02:00:00.123Z')
    const same = new Date(a.getTime())
    const next = new Date(a.getTime() + 1)
    expect(isoString(a)).toBe(a.toISOString())
    expect(isoString(same)).toBe(a.toISOString())
    expect(isoString(next)).toBe(next.toISOString())
    expect(isoString(a)).toBe('2026-12-02T02:00:00.123Z')
    expect(() => isoString(new Date(Number.NaN))).toThrow(RangeError)
  })
})
