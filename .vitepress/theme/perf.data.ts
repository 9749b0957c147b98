// Build-time data for the Performance page: the committed results of the
// last full `npm run bench` (bench/results/latest.json), with every figure
// already written out, so that the page shows exactly what was measured.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineLoader } from 'vitepress'
import { formatFigure, formatGoal, formatValue } from '../../bench/lib/format.ts'
import type { BenchRun, Figure } from '../../bench/lib/types.ts'

const resultsFile = fileURLToPath(
  new URL('../../bench/results/latest.json', import.meta.url),
)

export interface PerfFigure {
  key: string
  label: string
  kind: Figure['kind']
  /** Median with min–max, e.g. `0.57× (0.23×–1.4×)`. */
  text: string
  goal: string
  met: boolean | null
  source: string | null
}

export interface PerfBar {
  label: string
  value: number
  min: number
  max: number
  text: string
  met: boolean | null
}

export interface PerfChart {
  title: string
  unit: string
  bars: PerfBar[]
  line: { value: number; label: string } | null
}

export interface PerfRow {
  id: string
  title: string
  against: string
  goal: string
  status: string
  sides: Array<{ name: string; does: string }>
  figures: PerfFigure[]
  charts: PerfChart[]
  setup: string
  notes: string[]
  seconds: number
}

export interface PerfData {
  /** False until a full run has been committed. */
  present: boolean
  machine: string
  date: string
  minutes: string
  rows: PerfRow[]
}

declare const data: PerfData
export { data }

export default defineLoader({
  watch: ['../../bench/results/latest.json'],
  load(): PerfData {
    if (!existsSync(resultsFile)) {
      return { present: false, machine: '', date: '', minutes: '', rows: [] }
    }
    const run = JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchRun
    const { machine: m } = run
    return {
      present: true,
      machine:
        `${m.cpu}, ${m.cores} cores, ${formatValue(m.memoryBytes, 'B')} ` +
        `memory, Node ${m.node} (V8 ${m.v8}), ${m.platform}`,
      date: m.date.slice(0, 16).replace('T', ' ') + ' UTC',
      minutes: (run.elapsedMs / 60_000).toFixed(1),
      rows: run.benchmarks.map((b) => ({
        id: b.id,
        title: b.title,
        against: b.against,
        goal: b.goal,
        status: b.status,
        sides: b.sides.map((s) => ({ name: s.name, does: s.does })),
        figures: b.figures.map((f) => ({
          key: f.key,
          label: f.label,
          kind: f.kind,
          text: formatFigure(f),
          goal: formatGoal(f),
          met: f.met ?? null,
          source: f.source ?? null,
        })),
        charts: b.charts.map((c) => ({
          title: c.title,
          unit: c.unit,
          line: c.line ?? null,
          bars: c.keys.flatMap((key) => {
            const f = b.figures.find((figure) => figure.key === key)
            if (f === undefined) return []
            return [
              {
                label: f.label,
                value: f.median,
                min: f.min,
                max: f.max,
                text: formatValue(f.median, f.unit),
                met: f.met ?? null,
              },
            ]
          }),
        })),
        setup: b.setup,
        notes: [...b.notes],
        seconds: Math.round(b.elapsedMs / 1000),
      })),
    }
  },
})
