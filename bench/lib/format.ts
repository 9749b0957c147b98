/** How figures are written, in the table printed and on the page. */
import type { Figure } from './types.ts'

/** A number in a unit, short: `3.01M values/s`, `0.57×`, `412 B`. */
export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value)
  if (unit === '×') return `${significant(value)}×`
  if (unit === 'B') return formatBytes(value)
  return `${compact(value)} ${unit}`
}

/** A figure's median, with its min–max when it was measured in rounds. */
export function formatFigure(figure: Figure): string {
  const median = formatValue(figure.median, figure.unit)
  if (figure.rounds.length < 2) return median
  const spread =
    figure.unit === '×' || figure.unit === 'B'
      ? `${formatValue(figure.min, figure.unit)}–${formatValue(figure.max, figure.unit)}`
      : `${compact(figure.min)}–${compact(figure.max)}`
  return `${median} (${spread})`
}

/** A goal in words: `≥ 0.5×`, `≤ 1.00 kB`. */
export function formatGoal(figure: Figure): string {
  if (figure.goal === undefined) return ''
  const op = figure.goal.op === '>=' ? '≥' : '≤'
  return `${op} ${formatValue(figure.goal.value, figure.unit)}`
}

function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : ''
  const size = Math.abs(bytes)
  if (size < 1024) return `${sign}${Math.round(size)} B`
  if (size < 1024 ** 2) return `${sign}${significant(size / 1024)} KiB`
  return `${sign}${significant(size / 1024 ** 2)} MiB`
}

function compact(value: number): string {
  const size = Math.abs(value)
  if (size >= 1e9) return `${significant(value / 1e9)}G`
  if (size >= 1e6) return `${significant(value / 1e6)}M`
  if (size >= 1e4) return `${significant(value / 1e3)}k`
  return significant(value)
}

function significant(value: number): string {
  const size = Math.abs(value)
  if (size >= 100) return value.toFixed(0)
  if (size >= 10) return value.toFixed(1)
  if (size >= 1) return value.toFixed(2)
  return value.toPrecision(2)
}
