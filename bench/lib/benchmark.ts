/** What a benchmark module exports, and what its `run` gives back. */
import type { BenchContext } from './measure.ts'
import type { BenchResult, Status } from './types.ts'

/** The part of a result that the benchmark itself measures. */
export type Measured = Pick<
  BenchResult,
  'sides' | 'figures' | 'charts' | 'setup' | 'notes'
> & {
  /** Only to say `not-measured`; otherwise the goals decide. */
  readonly status?: Status
}

/** One row of the table: its words, and how to measure it. */
export interface Benchmark {
  readonly id: string
  readonly title: string
  readonly against: string
  readonly goal: string
  run(context: BenchContext): Promise<Measured>
}
