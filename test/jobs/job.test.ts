import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  canTransition,
  IllegalTransitionError,
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
