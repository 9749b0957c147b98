/**
 * Every pair of statuses, tried against the one table: ✓ where the move is
 * legal, · where `transition` throws `IllegalTransitionError`.
 */
import {
  IllegalTransitionError,
  JOB_STATUSES,
  newJob,
  transition,
  type Job,
  type JobStatus,
} from '../jobs/job.ts'
import { runIfMain, type Out } from './run.ts'

// #region matrix
/** Whether moving a job from `from` to `to` succeeds at run time. */
function tryMove(from: JobStatus, to: JobStatus): boolean {
  const now = new Date()
  const job: Job = { ...newJob({ type: 'noop' }, 'id', now), status: from }
  try {
    // Both statuses come at run time here, so only the check can refuse.
    transition(job, to, now)
    return true
  } catch (error) {
    if (error instanceof IllegalTransitionError) return false
    throw error
  }
}
// #endregion matrix

// #region compile-time
/** Tries to reopen a finished job: the compiler refuses. */
export function reopen(job: Job & { readonly status: 'completed' }): Job {
  // @ts-expect-error: NextStatus<'completed'> is never: no move leaves it
  return transition(job, 'pending', new Date())
}
// #endregion compile-time

export async function main(out: Out): Promise<void> {
  const width = 11
  const cell = (text: string) => text.padEnd(width)
  out(cell('from \\ to') + JOB_STATUSES.map(cell).join('').trimEnd())
  let legal = 0
  for (const from of JOB_STATUSES) {
    const marks = JOB_STATUSES.map((to) => {
      const ok = tryMove(from, to)
      if (ok) legal += 1
      return cell(ok ? '✓' : '·')
    })
    out(cell(from) + marks.join('').trimEnd())
  }
  out(`${legal} legal moves of ${JOB_STATUSES.length ** 2}`)
}

runIfMain(import.meta.url, main)
