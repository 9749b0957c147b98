/**
 * How every benchmark measures: rounds in which the variants run
 * interleaved (A B C, then C B A, ...), so that drift on a shared machine
 * hits them alike; and figures built from the rounds, where a ratio is
 * taken round by round (each subject against the baseline measured next to
 * it) before the median is taken.
 */
import type { Figure, Goal, Summary, Status } from './types.ts'

/** What a benchmark is given: how big to go, and where to say progress. */
export interface BenchContext {
  /** Tiny sizes and one round: the test's smoke run. */
  readonly tiny: boolean
  /** How many measured rounds (after one warm-up round). */
  readonly rounds: number
  readonly log: (line: string) => void
}

/** Median, min and max of `values` (which must not be empty). */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('no values to summarize')
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
  return { median, min: sorted[0] as number, max: sorted.at(-1) as number }
}

/** Collects garbage when the process runs with `--expose-gc`. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
}

/**
 * Runs each variant once per round, in alternating order (forward, then
 * backward), after one unrecorded warm-up round, collecting garbage before
 * each run. Each variant returns its own figure for that run (a rate, a
 * time, a size). Returns every variant's values, round by round.
 */
export async function interleave<K extends string>(
  context: BenchContext,
  variants: Record<K, () => Promise<number>>,
): Promise<Record<K, number[]>> {
  const keys = Object.keys(variants) as K[]
  const values = Object.fromEntries(keys.map((k) => [k, [] as number[]]))
  const warmUp = context.tiny ? 0 : 1
  for (let round = -warmUp; round < context.rounds; round++) {
    const order = round % 2 === 0 ? keys : [...keys].reverse()
    for (const key of order) {
      collectGarbage()
      const value = await variants[key]()
      if (round >= 0) (values[key] as number[]).push(value)
    }
  }
  return values as Record<K, number[]>
}

/** Operations per second of `run`, which performs `operations` of them. */
export async function rate(
  operations: number,
  run: () => Promise<unknown>,
): Promise<number> {
  const start = performance.now()
  await run()
  const seconds = (performance.now() - start) / 1000
  return operations / seconds
}

/** A figure measured directly, one value per round. */
export function measured(
  key: string,
  label: string,
  unit: string,
  rounds: readonly number[],
  goal?: Goal,
): Figure {
  return withGoal(
    { key, label, unit, kind: 'measured', rounds, ...summarize(rounds) },
    goal,
  )
}

/** `of / to`, round by round. */
export function ratio(
  key: string,
  label: string,
  of: Figure,
  to: Figure,
  goal?: Goal,
): Figure {
  const rounds = pairwise(of, to, (a, b) => a / b)
  return withGoal(
    {
      key,
      label,
      unit: '×',
      kind: 'ratio',
      rounds,
      of: of.key,
      to: to.key,
      ...summarize(rounds),
    },
    goal,
  )
}

/** `of - to`, round by round, in their unit. */
export function difference(
  key: string,
  label: string,
  of: Figure,
  to: Figure,
  goal?: Goal,
): Figure {
  const rounds = pairwise(of, to, (a, b) => a - b)
  return withGoal(
    {
      key,
      label,
      unit: of.unit,
      kind: 'difference',
      rounds,
      of: of.key,
      to: to.key,
      ...summarize(rounds),
    },
    goal,
  )
}

/** A number that this run did not measure, with where it comes from. */
export function cited(
  key: string,
  label: string,
  unit: string,
  value: number,
  source: string,
): Figure {
  return {
    key,
    label,
    unit,
    kind: 'cited',
    rounds: [],
    median: value,
    min: value,
    max: value,
    source,
  }
}

/** `met` if every goal is met, `missed` if one is not, else `report`. */
export function statusOf(figures: readonly Figure[]): Status {
  const judged = figures.filter((f) => f.met !== undefined)
  if (judged.length === 0) return 'report'
  return judged.every((f) => f.met) ? 'met' : 'missed'
}

function withGoal(figure: Figure, goal: Goal | undefined): Figure {
  if (goal === undefined) return figure
  const met =
    goal.op === '>=' ? figure.median >= goal.value : figure.median <= goal.value
  return { ...figure, goal, met }
}

function pairwise(
  of: Figure,
  to: Figure,
  combine: (a: number, b: number) => number,
): number[] {
  // A cited figure is the same in every round.
  if (to.kind === 'cited') return of.rounds.map((a) => combine(a, to.median))
  if (of.rounds.length !== to.rounds.length) {
    throw new RangeError(`${of.key} and ${to.key} have different rounds`)
  }
  return of.rounds.map((a, i) => combine(a, to.rounds[i] as number))
}
