// The graceful shutdown's phases as a timeline, read from the run that the
// graceful-shutdown chapter shows (its `output=shutdown-timeline` fence,
// which test/docs/outputs.test.ts checks against a real run): the picture
// shows what the process did, not what a drawing says it does.
import path from 'node:path'
import { readFileSync } from 'node:fs'
import { docsDir, scanFences } from '../lib/book.ts'

export const timelinePage = 'guide/graceful-shutdown.md'
export const timelineOutput = 'shutdown-timeline'

export interface Timeline {
  phases: Array<{ name: string; start: number; ms: number }>
  /** What happened inside a phase, such as a held job completing. */
  events: Array<{ at: number; what: string }>
  /** From the first phase's start to the last one's end. */
  totalMs: number
}

const mark = /^\+(\d+(?:\.\d+)?) ms\s+(\S.*)$/
const duration = /^\s+([a-z_]+)\s+(\d+(?:\.\d+)?) ms$/

/** Reads the phases' starts (`+2 ms  stop_http`) and durations (`  stop_http  2 ms`). */
export function parseTimeline(lines: readonly string[]): Timeline {
  const durations = new Map<string, number>()
  for (const line of lines) {
    const d = duration.exec(line)
    if (d) durations.set(d[1]!, Number(d[2]))
  }
  const phases: Timeline['phases'] = []
  const events: Timeline['events'] = []
  for (const line of lines) {
    const m = mark.exec(line)
    if (!m) continue
    const at = Number(m[1])
    const what = m[2]!.trim()
    const ms = durations.get(what)
    if (ms === undefined) events.push({ at, what })
    else phases.push({ name: what, start: at, ms })
  }
  if (phases.length === 0) throw new Error('no shutdown phases in the timeline')
  for (const name of durations.keys()) {
    if (!phases.some((p) => p.name === name)) {
      throw new Error(`phase ${name} has a duration but no start in the timeline`)
    }
  }
  const first = Math.min(...phases.map((p) => p.start))
  const last = Math.max(...phases.map((p) => p.start + p.ms), ...events.map((e) => e.at))
  return { phases, events, totalMs: last - first }
}

/** The timeline of the run the chapter shows. */
export function chapterTimeline(docs = docsDir): Timeline {
  const text = readFileSync(path.join(docs, timelinePage), 'utf8')
  const fence = scanFences(text).find((f) => f.meta.includes(`output=${timelineOutput}`))
  if (!fence) throw new Error(`docs/${timelinePage} has no output=${timelineOutput} fence`)
  return parseTimeline(fence.content)
}

export function timelineAlt(t: Timeline): string {
  const phases = t.phases.map((p) => `${p.name} at +${p.start} ms for ${p.ms} ms`)
  const events = t.events.map((e) => `${e.what} at +${e.at} ms`)
  return (
    `One graceful shutdown, phase by phase: ${phases.join('; ')}. ` +
    (events.length > 0 ? `Meanwhile: ${events.join('; ')}.` : '')
  ).trim()
}
