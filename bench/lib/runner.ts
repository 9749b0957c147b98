/** Runs benchmarks one after the other and assembles `latest.json`. */
import os from 'node:os'
import type { Benchmark } from './benchmark.ts'
import { formatFigure, formatGoal } from './format.ts'
import { statusOf, type BenchContext } from './measure.ts'
import type { BenchResult, BenchRun, Machine } from './types.ts'

/** The machine this process runs on, now. */
export function machine(): Machine {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  }
}

/** Runs `benchmarks` in order with `context`; one failing fails the run. */
export async function runBenchmarks(
  benchmarks: readonly Benchmark[],
  context: BenchContext,
): Promise<BenchRun> {
  const start = performance.now()
  const results: BenchResult[] = []
  for (const benchmark of benchmarks) {
    context.log(`· ${benchmark.id}`)
    const began = performance.now()
    const measured = await benchmark.run(context)
    const { status, ...rest } = measured
    results.push({
      id: benchmark.id,
      title: benchmark.title,
      against: benchmark.against,
      goal: benchmark.goal,
      status: status ?? statusOf(measured.figures),
      ...rest,
      elapsedMs: Math.round(performance.now() - began),
    })
    context.log(`  ${results.at(-1)?.status} in ${Math.round(performance.now() - began)} ms`)
  }
  return {
    machine: machine(),
    elapsedMs: Math.round(performance.now() - start),
    size: context.tiny ? 'tiny' : 'full',
    benchmarks: results,
  }
}

/** The run as a plain-text table, one block per benchmark. */
export function formatTable(run: BenchRun): string {
  const { machine: m } = run
  const lines = [
    `${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date}`,
    `total ${(run.elapsedMs / 1000).toFixed(1)} s`,
    '',
  ]
  for (const result of run.benchmarks) {
    lines.push(`${result.id} (${result.status}): ${result.title}`)
    for (const figure of result.figures) {
      const goal = formatGoal(figure)
      const verdict =
        figure.met === undefined ? '' : figure.met ? '  met' : '  MISSED'
      lines.push(
        `  ${figure.label.padEnd(36)} ${formatFigure(figure).padEnd(34)}` +
          `${goal ? ` goal ${goal}` : ''}${verdict}`,
      )
    }
    for (const note of result.notes) lines.push(`  note: ${note}`)
    lines.push('')
  }
  return lines.join('\n')
}
