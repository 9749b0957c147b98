/**
 * A metrics listener with a bug, on two buses: Node's `EventEmitter`, and
 * the service's `JobEvents`. The worker reports `job_started` just before
 * it runs the handler; what happens to the worker when a listener throws?
 */
import { EventEmitter } from 'node:events'
import { JobEvents } from '../jobs/events.ts'
import { runIfMain, type Out } from './run.ts'

const started = {
  job_id: 'a',
  type: 'sleep',
  worker_id: 'worker-1',
  attempt: 1,
}

/** The listener: a metric with a bug in it. */
function buggyMetric(): void {
  throw new Error('metrics: no such label "queue"')
}

// #region emitter
/** WRONG: `EventEmitter` lets a listener's error out of `emit`. */
export function onEmitter(): string {
  const bus = new EventEmitter()
  bus.on('job_started', buggyMetric)
  try {
    bus.emit('job_started', started) // the worker's report
    return 'emit returned'
  } catch (error) {
    return `emit threw into the worker: ${(error as Error).message}`
  }
}
// #endregion emitter

// #region job-events
/** `JobEvents` reports a listener's error, and `emit` returns. */
export function onJobEvents(): string {
  const reported: string[] = []
  const bus = new JobEvents({
    onListenerError: (error) => reported.push((error as Error).message),
  })
  bus.on('job_started', buggyMetric)
  bus.emit('job_started', started) // never throws
  return `emit returned; reported: ${reported.join(', ')}`
}
// #endregion job-events

export async function main(out: Out): Promise<void> {
  out('EventEmitter:')
  out(`  ${onEmitter()}`)
  out('JobEvents:')
  out(`  ${onJobEvents()}`)
}

runIfMain(import.meta.url, main)
