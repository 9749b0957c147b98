/**
 * The shape of `bench/results/latest.json`: what one `npm run bench` run
 * measured, on which machine. The Performance page renders it as is.
 */

/** Median, fastest and slowest of a figure over the rounds of one run. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
}

/** What a figure is: measured, derived from two measured ones, or cited. */
export type FigureKind = 'measured' | 'ratio' | 'difference' | 'cited'

/** A goal on a figure's median, e.g. `{ op: '>=', value: 0.5 }`. */
export interface Goal {
  readonly op: '>=' | '<='
  readonly value: number
}

/** One number of a benchmark, with its value in every round. */
export interface Figure extends Summary {
  /** Unique within its benchmark; charts and ratios name figures by key. */
  readonly key: string
  readonly label: string
  /** `ops/s`, `ns/op`, `×`, `ms`, `B`, `req/s`... */
  readonly unit: string
  readonly kind: FigureKind
  /** One value per round; empty for a cited figure. */
  readonly rounds: readonly number[]
  /** For a ratio or a difference: the figures it compares (`of` vs `to`). */
  readonly of?: string
  readonly to?: string
  readonly goal?: Goal
  /** Whether the median meets `goal`; absent when there is no goal. */
  readonly met?: boolean
  /** Where a cited figure comes from. */
  readonly source?: string
}

/** A bar chart: one bar per figure, each with its min–max whisker. */
export interface Chart {
  readonly title: string
  readonly unit: string
  readonly keys: readonly string[]
  /** A line drawn across the chart, e.g. the goal. */
  readonly line?: { readonly value: number; readonly label: string }
}

/** `met`/`missed` when the row has goals, `report` when it only reports. */
export type Status = 'met' | 'missed' | 'report' | 'not-measured'

/** One row of the table, measured. */
export interface BenchResult {
  /** Also the anchor on the Performance page (`#idle-task-memory`). */
  readonly id: string
  readonly title: string
  /** What it is measured against (the middle column). */
  readonly against: string
  /** The goal, in words (the last column). */
  readonly goal: string
  readonly status: Status
  /** Exactly what each side does, one entry per side. */
  readonly sides: readonly { readonly name: string; readonly does: string }[]
  readonly figures: readonly Figure[]
  readonly charts: readonly Chart[]
  /** Sizes, rounds, durations: what the run used. */
  readonly setup: string
  /** What limits a missed goal, or why a row was not measured. */
  readonly notes: readonly string[]
  /** Wall time this benchmark took, in milliseconds. */
  readonly elapsedMs: number
}

/** The machine a run happened on. */
export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryBytes: number
  readonly node: string
  readonly v8: string
  readonly platform: string
  readonly date: string
}

/** The whole of `latest.json`. */
export interface BenchRun {
  readonly machine: Machine
  /** Wall time of the whole run, in milliseconds. */
  readonly elapsedMs: number
  /** `full` for `npm run bench`; `tiny` for the test's smoke run. */
  readonly size: 'full' | 'tiny'
  readonly benchmarks: readonly BenchResult[]
}
