import { describe, expect, it } from 'vitest'
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
} from '../../src/jobs/job.ts'

const now = new Date('2030-01-02T03:04:05.678Z')
const later = new Date('2030-01-02T03:04:06.000Z')

function jobIn(status: JobStatus): Job {
  return { ...newJob({ type: 'noop' }, 'id-1', now), status }
}

const allPairs = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as const))
const legal = allPairs.filter(([from, to]) => (TRANSITIONS[from] as readonly string[]).includes(to))
const illegal = allPairs.filter(([from, to]) => !(TRANSITIONS[from] as readonly string[]).includes(to))

describe('the transition table', () => {
  it('states-table: the table allows exactly these nine moves, and completed, failed and canceled are final', () => {
    expect(JOB_STATUSES).toEqual(['pending', 'processing', 'retrying', 'completed', 'failed', 'canceled'])
    expect(legal.map(([from, to]) => `${from} → ${to}`)).toEqual([
      'pending → processing',
      'pending → canceled',
      'processing → pending',
      'processing → retrying',
      'processing → completed',
      'processing → failed',
      'processing → canceled',
      'retrying → processing',
      'retrying → canceled',
    ])
    expect(JOB_STATUSES.filter(isFinished)).toEqual(['completed', 'failed', 'canceled'])
  })

  it('states-matrix: the matrix of every status pair holds 36 moves: 9 legal, 27 illegal', () => {
    expect([allPairs.length, legal.length, illegal.length]).toEqual([36, 9, 27])
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

  it('states-compile-time: a transition the table lacks does not compile where both statuses are static', () => {
    const done = jobIn('completed') as Job & { status: 'completed' }
    // @ts-expect-error: NextStatus<'completed'> is never
    const attempt = () => transition(done, 'pending', later)
    expect(attempt).toThrow(IllegalTransitionError)
    const waiting = jobIn('pending') as Job & { status: 'pending' }
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
