// The job domain's errors, as a caller meets them: the HTTP layer maps
// each by its `name`, and clients read its `message` (src/http/errors.ts).
import { describe, expect, it } from 'vitest'
import {
  IdempotencyConflictError,
  InvalidPayloadError,
  JobCanceledError,
  JobInterruptedError,
  JobNotCancelableError,
  JobNotFoundError,
  JobTimeoutError,
  LeaseLostError,
  NotAcceptingJobsError,
  QueueFullError,
  StoreFullError,
  StoreUnavailableError,
  TimeoutTooLongError,
  UnknownJobTypeError,
} from '../../src/jobs/errors.ts'

const id = 'a1b2'

describe('the job errors', () => {
  it.each([
    [
      new UnknownJobTypeError('x', ['fail', 'sleep']),
      'UnknownJobTypeError',
      'unknown job type "x"; known types: fail, sleep',
    ],
    [new InvalidPayloadError('bad'), 'InvalidPayloadError', 'bad'],
    [
      new TimeoutTooLongError('sleep', 60_000),
      'TimeoutTooLongError',
      'timeout_ms of a sleep job must be at most 60000',
    ],
    [new JobNotFoundError(id), 'JobNotFoundError', 'job a1b2 not found'],
    [
      new QueueFullError(5),
      'QueueFullError',
      'too many jobs waiting (at most 5); retry later',
    ],
    [
      new StoreFullError(1024),
      'StoreFullError',
      'job store is full (1024 bytes of payloads); retry later',
    ],
    [
      new IdempotencyConflictError('k-1'),
      'IdempotencyConflictError',
      'Idempotency-Key "k-1" was already used with a different request',
    ],
    [new LeaseLostError(id), 'LeaseLostError', 'lease on job a1b2 was lost'],
    [new StoreUnavailableError('down'), 'StoreUnavailableError', 'down'],
    [
      new NotAcceptingJobsError(),
      'NotAcceptingJobsError',
      'the service is stopping and accepts no new jobs',
    ],
    [
      new JobNotCancelableError(id, 'it is completed'),
      'JobNotCancelableError',
      'job a1b2 cannot be canceled: it is completed',
    ],
    [new JobTimeoutError(250), 'JobTimeoutError', 'timed out after 250 ms'],
    [new JobInterruptedError('stopping'), 'JobInterruptedError', 'stopping'],
    [new JobCanceledError(id), 'JobCanceledError', 'job a1b2 was canceled'],
  ] as const)('%s has its name and says what happened', (error, name, message) => {
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe(name)
    expect(error.message).toBe(message)
    // A stack's first line is what a log shows first.
    expect(error.stack?.split('\n')[0]).toBe(`${name}: ${message}`)
  })

  it('keep what they name, for the code that handles them', () => {
    expect(new UnknownJobTypeError('x', ['a'])).toMatchObject({ type: 'x', known: ['a'] })
    expect(new TimeoutTooLongError('t', 9)).toMatchObject({ type: 't', maxTimeoutMs: 9 })
    expect(new QueueFullError(3).capacity).toBe(3)
    expect(new StoreFullError(7).budgetBytes).toBe(7)
    expect(new IdempotencyConflictError('k').key).toBe('k')
    expect(new JobTimeoutError(5).timeoutMs).toBe(5)
    for (const error of [
      new JobNotFoundError(id),
      new LeaseLostError(id),
      new JobNotCancelableError(id, 'why'),
      new JobCanceledError(id),
    ]) {
      expect(error.id).toBe(id)
    }
  })
})
