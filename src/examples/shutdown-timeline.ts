/**
 * A graceful stop of the real service, as a timeline: start `src/main.ts`
 * (what `npm start` runs), give its two workers three jobs, send SIGTERM,
 * and print what the process logged, with each line's time since the
 * signal, then its shutdown report.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { runIfMain, type Out } from './run.ts'

type LogLine = { event: string; time: string } & Record<string, unknown>

const root = fileURLToPath(new URL('../..', import.meta.url))

// #region timeline
export async function main(out: Out): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', WORKER_COUNT: '2' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = once(child, 'close')
  const lines: LogLine[] = []
  const waiting: Array<{ match: (l: LogLine) => boolean; resolve: () => void }> = []
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine
    lines.push(line)
    for (const w of waiting.filter((w) => w.match(line))) w.resolve()
  })
  const logged = (match: (l: LogLine) => boolean) =>
    lines.some(match)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiting.push({ match, resolve }))

  await logged((l) => l.event === 'listening')
  const url = lines.find((l) => l.event === 'listening')!['url'] as string
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${url}/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'sleep', payload: { ms: 500 } }),
    })
    statuses.push(res.status)
  }
  out(`POST /jobs ×3 → ${statuses.join(', ')}; two workers start two jobs`)
  await logged((l) => l.event === 'job_started' && l['worker_id'] === 'worker-2')
  await logged((l) => l.event === 'job_started' && l['worker_id'] === 'worker-1')

  const signalled = Date.now()
  child.kill('SIGTERM')
  const [code] = (await exited) as [number]
  for (const line of lines.filter((l) => Date.parse(l.time) >= signalled)) {
    const at = `+${Date.parse(line.time) - signalled} ms`.padEnd(9)
    if (line.event === 'shutdown_phase_started') out(`${at} ${line['phase']}`)
    if (line.event === 'job_completed') out(`${at}   a held job completes`)
  }
  out(`exit code ${code}`)
  const report = lines.find((l) => l.event === 'shutdown_report')!
  const { phases, jobs_finished, jobs_requeued, jobs_abandoned } = report
  out(JSON.stringify({ jobs_finished, jobs_requeued, jobs_abandoned }))
  for (const p of phases as Array<{ name: string; duration_ms: number }>) {
    out(`  ${p.name.padEnd(16)} ${p.duration_ms} ms`)
  }
}
// #endregion timeline

runIfMain(import.meta.url, main)
