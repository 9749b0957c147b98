// The job state machine, drawn from `TRANSITIONS` in src/jobs/job.ts when
// the site is built: the picture cannot show a move the table does not allow.
import { dotString, renderDot } from './graphviz.ts'

export type Transitions = Readonly<Record<string, readonly string[]>>

export function statesDot(table: Transitions): string {
  const lines = [
    'digraph states {',
    '  bgcolor=transparent; rankdir=TB; nodesep=0.35; ranksep=0.45;',
    '  node [fontname="Helvetica" fontsize=13 shape=box style=rounded class="state" height=0.4];',
    '  edge [class="move" arrowsize=0.7];',
  ]
  for (const [from, next] of Object.entries(table)) {
    // A status with no way out is final: drawn with a double border.
    const final = next.length === 0
    lines.push(`  ${dotString(from)} [${final ? 'peripheries=2 class="state final"' : ''}];`)
  }
  for (const [from, next] of Object.entries(table)) {
    for (const to of next) lines.push(`  ${dotString(from)} -> ${dotString(to)};`)
  }
  lines.push('}')
  return lines.join('\n')
}

/** The same table in words, for a reader who cannot see the picture. */
export function statesAlt(table: Transitions): string {
  const list = (xs: readonly string[]) =>
    xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`
  const moves = Object.entries(table)
    .filter(([, next]) => next.length > 0)
    .map(([from, next]) => `${from} may become ${list(next)}`)
  const finals = Object.keys(table).filter((s) => table[s]!.length === 0)
  const and = (xs: string[]) =>
    xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`
  return `The job's states and the moves between them: ${moves.join('; ')}. ${and(finals)} ${
    finals.length === 1 ? 'is' : 'are'
  } final.`
}

export async function statesPicture(table: Transitions): Promise<{ svg: string; alt: string }> {
  const alt = statesAlt(table)
  return { svg: await renderDot(statesDot(table), alt), alt }
}
