// Signals as they really arrive. A process manager (systemd, Docker,
// Kubernetes) sends SIGTERM to one pid: the compiled `node dist/main.js`.
// A terminal's Ctrl-C sends SIGINT to the whole foreground process group:
// `npm start`, the shell npm runs the script with, and the service.
import { readdirSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { postJob, startListening, startService, type ServiceProcess } from './service-process.ts'

let service: ServiceProcess | undefined
let group: number | undefined

afterEach(async () => {
  if (group !== undefined) killGroup(group)
  await service?.kill()
  service = undefined
  group = undefined
})

const dist = () => ({ file: process.execPath, args: [`${inject('distDir')}/main.js`] })
const npmStart = { file: 'npm', args: ['start'], detached: true }

/** The live processes of process group `pgid` (Linux: read from /proc). */
function groupMembers(pgid: number): { pid: number; command: string }[] {
  const members: { pid: number; command: string }[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(group) !== pgid || state === 'Z') continue
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ')
      members.push({ pid: Number(name), command: command.trim() })
    } catch {
      // The process ended while we read it.
    }
  }
  return members
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    // Nothing left in it.
  }
}

const names = (s: ServiceProcess) => s.events.map((e) => e.event)

describe('node dist/main.js, as a process manager runs it', () => {
  it('hostile-build-runs: the build runs every job type, the thread pool\'s too (its .mjs file is copied)', async () => {
    const run = await startListening({}, dist())
    service = run.service
    const { status, job } = await postJob(run.url, { type: 'hash', payload: { rounds: 1000 } })
    expect(status).toBe(201)
    const done = await service.waitFor(
      (e) => e.job_id === job.id && (e.event === 'job_completed' || e.event === 'job_failed'),
    )
    expect(done.event).toBe('job_completed')
  }, 30_000)

  it('hostile-sigterm-dist: SIGTERM to its pid alone stops it gracefully: the running job completes, one report, exit code 0', async () => {
    const run = await startListening({ WORKER_COUNT: '1' }, dist())
    service = run.service
    const { status, job } = await postJob(run.url, { type: 'sleep', payload: { ms: 300 } })
    expect(status).toBe(201)
    await service.waitFor((e) => e.event === 'job_started' && e.job_id === job.id)
    service.child.kill('SIGTERM')
    expect(await service.exited).toBe(0)
    const seen = names(service)
    expect(seen.indexOf('stopping')).toBeLessThan(seen.indexOf('job_completed'))
    expect(seen.filter((name) => name === 'shutdown_report')).toHaveLength(1)
    expect(service.events.at(-1)).toMatchObject({
      event: 'shutdown_report',
      jobs_finished: 1,
      exit_code: 0,
    })
  }, 30_000)

  it('hostile-start-failed: a port already in use is logged at error level, and the process exits 1', async () => {
    const first = await startListening({}, dist())
    service = first.service
    const port = new URL(first.url).port
    const second = startService({ PORT: port, HOST: '127.0.0.1', STORE: 'memory' }, dist())
    try {
      expect(await second.exited).toBe(1)
      expect(second.events).toContainEqual(
        expect.objectContaining({ level: 'error', event: 'start_failed' }),
      )
    } finally {
      await second.kill()
    }
  }, 30_000)
})

describe('npm start, from a terminal', () => {
  it('hostile-npm-ctrl-c: Ctrl-C (SIGINT to the group) stops it gracefully, once, and npm exits only after the service has', async () => {
    const run = await startListening({ WORKER_COUNT: '1' }, npmStart)
    service = run.service
    group = service.child.pid
    const pgid = group!
    const { status, job } = await postJob(run.url, { type: 'sleep', payload: { ms: 500 } })
    expect(status).toBe(201)
    await service.waitFor((e) => e.event === 'job_started' && e.job_id === job.id)
    // npm, its shell and the service: the terminal signals them all.
    expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(3)
    const npmExited = new Promise<{ pid: number; command: string }[]>((resolve) =>
      service!.child.once('exit', () => resolve(groupMembers(pgid))),
    )
    process.kill(-pgid, 'SIGINT')
    // When npm exits, nothing of its group is left running.
    expect(await npmExited).toEqual([])
    await service.exited
    const seen = names(service)
    expect(seen).toContain('job_completed')
    // One Ctrl-C was one signal: npm forwarded its copy to the shell, not
    // to the service, so the stop was not hurried.
    expect(seen).not.toContain('hurrying')
    expect(service.events.at(-1)).toMatchObject({ event: 'shutdown_report', exit_code: 0 })
  }, 30_000)

  it('hostile-npm-pid-sigterm: SIGTERM to the pid of npm alone never reaches the service: npm 11 forwards it to its shell, which dies of it', async () => {
    const run = await startListening({ WORKER_COUNT: '1' }, npmStart)
    service = run.service
    group = service.child.pid
    const pgid = group!
    const before = groupMembers(pgid).filter((p) => p.pid !== pgid)
    service.child.kill('SIGTERM')
    await new Promise((resolve) => service!.child.once('exit', resolve))
    // The service runs on, orphaned, and never heard of a stop.
    const left = groupMembers(pgid)
    expect(left.length).toBeGreaterThan(0)
    expect(left.every((p) => before.some((b) => b.pid === p.pid))).toBe(true)
    expect((await fetch(`${run.url}/health`)).status).toBe(200)
    expect(names(service)).not.toContain('stopping')
  }, 30_000)
})
