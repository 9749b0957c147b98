/** Every benchmark, in the order of the table. */
import type { Benchmark } from '../lib/benchmark.ts'
import { fan, handoff } from './channels.ts'
import { healthLatency } from './health.ts'
import { postJobs } from './http.ts'
import { jobThroughput } from './jobs.ts'
import { idleTaskMemory, queuedJobMemory } from './memory.ts'
import { peerDrain, peerEnqueue, peerInstances, peerLatency, peerMemory } from './peers.ts'
import { selectBench } from './select.ts'
import { stopTime } from './stop.ts'

export const benchmarks: readonly Benchmark[] = [
  handoff,
  fan,
  selectBench,
  jobThroughput,
  postJobs,
  healthLatency,
  idleTaskMemory,
  queuedJobMemory,
  stopTime,
  peerDrain,
  peerEnqueue,
  peerLatency,
  peerInstances,
  peerMemory,
]
