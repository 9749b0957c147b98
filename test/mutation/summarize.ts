// Writes the summary of the last `npm run mutants` that the mutation
// testing page shows: from StrykerJS's JSON report (.results/mutation/,
// git-ignored) to test/mutation/results/<target>.json (committed).
//
//   tsx test/mutation/summarize.ts [target]     (npm run mutants does it)
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { fileURLToPath } from 'node:url'

type Status =
  | 'Killed'
  | 'Survived'
  | 'NoCoverage'
  | 'Timeout'
  | 'CompileError'
  | 'RuntimeError'
  | 'Ignored'
  | 'Pending'

interface ReportMutant {
  id: string
  mutatorName: string
  replacement?: string
  status: Status
  location: { start: { line: number; column: number } }
}

interface Report {
  files: Record<string, { mutants: ReportMutant[] }>
}

/** One file's or the whole target's counts, and its score. */
export interface Counts {
  mutants: number
  killed: number
  timedOut: number
  survived: number
  noCoverage: number
  /** Errors and ignored mutants: not in the score. */
  invalid: number
  /** Killed or timed out, of the valid mutants, in percent. */
  score: number
  /** Killed by a failing test (not by a timeout), in percent. */
  killedPercent: number
}

export interface MutationSummary {
  target: string
  date: string
  /** The commit the mutants were made from (`+` if the tree had changes). */
  commit: string
  machine: string
  total: Counts
  files: Array<{ file: string } & Counts>
  survivors: Array<{
    file: string
    line: number
    mutator: string
    replacement: string
    status: 'Survived' | 'NoCoverage'
  }>
}

function count(mutants: ReportMutant[]): Counts {
  const of = (...statuses: Status[]) =>
    mutants.filter((m) => statuses.includes(m.status)).length
  const killed = of('Killed')
  const timedOut = of('Timeout')
  const survived = of('Survived')
  const noCoverage = of('NoCoverage')
  const valid = killed + timedOut + survived + noCoverage
  const percent = (n: number) =>
    valid === 0 ? 100 : Math.round((1000 * n) / valid) / 10
  return {
    mutants: mutants.length,
    killed,
    timedOut,
    survived,
    noCoverage,
    invalid: mutants.length - valid,
    score: percent(killed + timedOut),
    killedPercent: percent(killed),
  }
}

export function summarize(
  target: string,
  report: Report,
  date: Date,
  commit: string,
): MutationSummary {
  const entries = Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))
  const all = entries.flatMap(([, file]) => file.mutants)
  return {
    target,
    date: date.toISOString(),
    commit,
    machine: `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.versions.node}`,
    total: count(all),
    files: entries.map(([file, { mutants }]) => ({ file, ...count(mutants) })),
    survivors: entries.flatMap(([file, { mutants }]) =>
      mutants
        .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
        .sort((a, b) => a.location.start.line - b.location.start.line)
        .map((m) => ({
          file,
          line: m.location.start.line,
          mutator: m.mutatorName,
          replacement: (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80),
          status: m.status as 'Survived' | 'NoCoverage',
        })),
    ),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = process.argv[2] ?? process.env['MUTANTS'] ?? 'concurrency'
  const root = new URL('../../', import.meta.url)
  const report = JSON.parse(
    readFileSync(new URL(`.results/mutation/${target}.json`, root), 'utf8'),
  ) as Report
  const git = (...args: string[]) =>
    execFileSync('git', args, { encoding: 'utf8' }).trim()
  const changed = git('status', '--porcelain', 'src', `test/${target}`)
  const dirty = changed === '' ? '' : '+'
  const commit = `${git('rev-parse', '--short', 'HEAD')}${dirty}`
  const summary = summarize(target, report, new Date(), commit)
  const out = new URL(`test/mutation/results/${target}.json`, root)
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`)
  const { score, killedPercent, mutants } = summary.total
  console.log(
    `${target}: ${mutants} mutants, score ${score}% (${killedPercent}% killed by a test); ` +
      `${summary.survivors.length} survived; wrote ${fileURLToPath(out)}`,
  )
}
