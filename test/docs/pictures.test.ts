// The pictures the site draws at build time say what their sources say.
import { describe, expect, it } from 'vitest'
import { TRANSITIONS } from '../../src/jobs/job.ts'
import { edgesOf, nodesOf } from '../../.vitepress/pictures/graphviz.ts'
import { jobPath, jobPathPicture } from '../../.vitepress/pictures/job-path.ts'
import { chapterTimeline, parseTimeline } from '../../.vitepress/pictures/shutdown.ts'
import { statesPicture } from '../../.vitepress/pictures/states.ts'

const tableEdges = Object.entries(TRANSITIONS).flatMap(([from, next]) =>
  next.map((to) => `${from}->${to}`),
)

describe('the state machine picture', () => {
  it('draws exactly the moves of TRANSITIONS, and every status', async () => {
    const { svg } = await statesPicture(TRANSITIONS)
    expect(edgesOf(svg).sort()).toEqual([...tableEdges].sort())
    expect(nodesOf(svg).sort()).toEqual(Object.keys(TRANSITIONS).sort())
  })

  it('marks the statuses with no way out as final', async () => {
    const { svg } = await statesPicture(TRANSITIONS)
    const finals = [...svg.matchAll(/class="node state final">\s*<title>([^<]*)</g)].map((m) => m[1])
    expect(finals.sort()).toEqual(
      Object.keys(TRANSITIONS).filter((s) => TRANSITIONS[s as keyof typeof TRANSITIONS].length === 0).sort(),
    )
  })

  it('says every move in its text alternative, and names the svg with it', async () => {
    const { svg, alt } = await statesPicture(TRANSITIONS)
    for (const [from, next] of Object.entries(TRANSITIONS)) {
      if (next.length > 0) expect(alt).toContain(`${from} may become`)
      for (const to of next) expect(alt).toMatch(new RegExp(`${from} may become [^;.]*\\b${to}\\b`))
    }
    expect(svg).toMatch(/^<svg role="img" aria-label="The job&#39;s|^<svg role="img" aria-label="The job's/)
  })

  it('follows the table when the table changes', async () => {
    const { svg } = await statesPicture({ a: ['b'], b: [] })
    expect(edgesOf(svg)).toEqual(['a->b'])
  })
})

describe('the job path picture', () => {
  it('draws every step and edge of its data file, and names each step', async () => {
    const { svg, alt } = await jobPathPicture()
    expect(edgesOf(svg).sort()).toEqual(jobPath.edges.map(([a, b]) => `${a}->${b}`).sort())
    expect(nodesOf(svg).sort()).toEqual(jobPath.steps.map((s) => s.id).sort())
    for (const step of jobPath.steps) expect(alt).toContain(step.label)
  })

  it('has no edge to a step it does not define', () => {
    const ids = new Set(jobPath.steps.map((s) => s.id))
    expect(jobPath.edges.flat().filter((id) => !ids.has(id))).toEqual([])
  })
})

describe('the shutdown timeline', () => {
  it('reads phase starts, durations and events from a run', () => {
    const t = parseTimeline([
      'POST /jobs ×3 → 201',
      '+2 ms     refuse_new_work',
      '+4 ms     finish_jobs',
      '+90 ms     a held job completes',
      '  refuse_new_work  1 ms',
      '  finish_jobs      86 ms',
    ])
    expect(t.phases).toEqual([
      { name: 'refuse_new_work', start: 2, ms: 1 },
      { name: 'finish_jobs', start: 4, ms: 86 },
    ])
    expect(t.events).toEqual([{ at: 90, what: 'a held job completes' }])
    expect(t.totalMs).toBe(88)
  })

  it('refuses a phase with a duration and no start', () => {
    expect(() => parseTimeline(['+2 ms  stop_http', '  stop_http  1 ms', '  close_queue  0 ms']))
      .toThrow('phase close_queue has a duration but no start')
  })

  it('takes the chapter\'s run: every phase it lists, in order of start', () => {
    const t = chapterTimeline()
    expect(t.phases.length).toBeGreaterThanOrEqual(4)
    const starts = t.phases.map((p) => p.start)
    expect(starts).toEqual([...starts].sort((a, b) => a - b))
  })
})
