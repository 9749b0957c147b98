/**
 * Startup recovery, on a store that outlives the process: before any
 * worker of this process runs, the jobs a previous process was running
 * when it died come back. They are the jobs whose lease nobody renews any
 * more; giving them back is a rescue, run once before the start goes on.
 *
 * Which ones: with a database this instance owns alone (the embedded one,
 * under its data-directory lock), every `processing` job was left by a
 * process that is gone, so all come back at once. With a shared database,
 * another instance may be running them: only expired leases come back,
 * and the rescuer's timer takes the rest as they expire.
 */
import type { JobEvents } from './events.ts'
import { rescueOnce } from './rescuer.ts'
import type { JobStore, RescuePolicy } from './store/contract.ts'

// #region recover
/** Gives back the jobs a dead process left running; returns how many. */
export async function recoverAtStart(options: {
  readonly store: JobStore
  /** True when no other instance can use this database. */
  readonly exclusive: boolean
  readonly policy: RescuePolicy
  readonly events?: JobEvents | undefined
}): Promise<number> {
  const { store, exclusive, policy, events } = options
  const pass = await rescueOnce({
    store,
    policy: { ...policy, all: exclusive },
    events,
  })
  return pass.rescued
}
// #endregion recover
