/**
 * A graceful stop of the real service, as a timeline: start `src/main.ts`
 * (what `npm start` runs) with two workers and the memory store, give it
 * one job per worker, send SIGTERM, and print what the process logged,
 * with each line's time since the signal, then its shutdown report.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { runIfMain, type Out } from './run.ts'

type LogLine = { event: string; time: string } & Record<string, unknown>

const root = fileURLToPath(new URL('../..', import.meta.url))

/** `src/main.ts` as a child; `logged` waits for a line that matches. */
function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = once(child, 'close').then(() => child.exitCode)
  const lines: LogLine[] = []
  const waiting: { match: (l: LogLine) => boolean; done: () => void }[] = []
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine
    lines.push(line)
    for (const w of waiting.filter((w) => w.match(line))) w.done()
  })
  const logged = async (match: (l: LogLine) => boolean) => {
    const seen = lines.find(match)
    if (seen) return seen
    await new Promise<void>((done) => waiting.push({ match, done }))
    return lines.find(match)!
  }
  return { child, exited, lines, logged }
}

/** One line per phase started and job completed after `since`. */
function timeline(lines: readonly LogLine[], since: number): string[] {
  const shown: string[] = []
  for (const line of lines.filter((l) => Date.parse(l.time) >= since)) {
    const at = `+${Date.parse(line.time) - since} ms`.padEnd(9)
    if (line.event === 'shutdown_phase_started') {
      shown.push(`${at} ${line['phase']}`)
    }
    if (line.event === 'job_completed') shown.push(`${at}   a job completes`)
  }
  return shown
}

// #region timeline
export async function main(out: Out): Promise<void> {
  const run = startMain({ WORKER_COUNT: '2', STORE: 'memory' })
  const { url } = await run.logged((l) => l.event === 'listening')
  const statuses: number[] = []
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${url}/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'sleep', payload: { ms: 1_000 } }),
    })
    statuses.push(res.status)
  }
  out(`POST /jobs ×2 → ${statuses.join(', ')}; each worker starts one`)
  const started = (worker: string) => (l: LogLine) =>
    l.event === 'job_started' && l['worker_id'] === worker
  await run.logged(started('worker-1'))
  await run.logged(started('worker-2'))
  const signalled = Date.now()
  run.child.kill('SIGTERM')
  const code = await run.exited
  for (const line of timeline(run.lines, signalled)) out(line)
  out(`exit code ${code}`)
  report(run.lines, out)
}
// #endregion timeline

/** The shutdown report's counts, then its phases with their durations. */
function report(lines: readonly LogLine[], out: Out): void {
  const report = lines.find((l) => l.event === 'shutdown_report')!
  const count = (name: string) => `${name}: ${JSON.stringify(report[name])}`
  const finished = ['jobs_finished', 'jobs_interrupted', 'jobs_released']
  out(finished.map(count).join(', '))
  out(['jobs_lost', 'jobs_abandoned'].map(count).join(', '))
  for (const p of report['phases'] as { name: string; duration_ms: number }[]) {
    out(`  ${p.name.padEnd(16)} ${p.duration_ms} ms`)
  }
}

runIfMain(import.meta.url, main)
