// One job's way through the service, as the durable-store design builds
// it. The picture on the site is drawn from this list when it is built;
// a chapter that shows it says which step it is about.
import { dotString, renderDot } from './graphviz.ts'

export interface Step {
  id: string
  /** What happens, in a few words. */
  label: string
  /** Who does it. */
  by: string
}

export const jobPath: { steps: Step[]; edges: Array<[string, string]> } = {
  steps: [
    { id: 'http', label: 'POST /jobs: validate, answer 201', by: 'HTTP routes' },
    { id: 'insert', label: 'insert the job: this is the enqueue', by: 'the store' },
    { id: 'claim', label: 'claim due jobs for idle workers (lease)', by: 'the fetcher' },
    { id: 'channel', label: 'hand the claimed job over in-process', by: 'a Channel' },
    { id: 'worker', label: 'run the handler (signal, heartbeat)', by: 'a worker' },
    { id: 'finish', label: 'record the outcome, fenced by owner and attempt', by: 'the store' },
    { id: 'event', label: 'job_completed, job_failed, ...', by: 'job events' },
    { id: 'logs', label: 'one JSON line', by: 'logs' },
    { id: 'metrics', label: 'counters and gauges', by: 'metrics' },
  ],
  edges: [
    ['http', 'insert'],
    ['insert', 'claim'],
    ['claim', 'channel'],
    ['channel', 'worker'],
    ['worker', 'finish'],
    ['finish', 'event'],
    ['event', 'logs'],
    ['event', 'metrics'],
  ],
}

export function jobPathDot(path = jobPath): string {
  const lines = [
    'digraph path {',
    '  bgcolor=transparent; rankdir=TB; nodesep=0.3; ranksep=0.3;',
    '  node [fontname="Helvetica" fontsize=12 shape=box style=rounded class="step" margin="0.15,0.06"];',
    '  edge [class="move" arrowsize=0.7];',
  ]
  for (const s of path.steps) {
    lines.push(`  ${dotString(s.id)} [label=${dotString(`${s.by}\n${s.label}`)}];`)
  }
  for (const [from, to] of path.edges) lines.push(`  ${dotString(from)} -> ${dotString(to)};`)
  lines.push('}')
  return lines.join('\n')
}

export function jobPathAlt(path = jobPath): string {
  const by = (id: string) => path.steps.find((s) => s.id === id)!.by
  const steps = path.steps.map((s, i) => `${i + 1}. ${s.by}: ${s.label}`)
  // Where the path forks, say so: the list alone reads as one line.
  const forks = path.steps
    .map((s) => ({ s, next: path.edges.filter(([from]) => from === s.id).map(([, to]) => by(to)) }))
    .filter(({ next }) => next.length > 1)
    .map(({ s, next }) => `${s.by} feed both ${next.slice(0, -1).join(', ')} and ${next.at(-1)}`)
    .map((sentence) => sentence[0]!.toUpperCase() + sentence.slice(1))
  return `A job's path, step by step: ${steps.join('; ')}.${forks.length ? ` ${forks.join('; ')}.` : ''}`
}

export async function jobPathPicture(): Promise<{ svg: string; alt: string }> {
  const alt = jobPathAlt()
  return { svg: await renderDot(jobPathDot(), alt), alt }
}
