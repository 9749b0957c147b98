// The graceful stop, tested against the real process: `src/main.ts` (what
// `npm start` runs) as a child, driven over HTTP and with signals. Each test
// waits for what the service logs, never for a fixed time.
import { Agent, request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { freshDataDir, type DataDir } from '../support/data-dir.ts'
import {
  compiledMain,
  postJob,
  startListening,
  testEntry,
  type LogEvent,
  type ServiceCommand,
  type ServiceProcess,
} from './service-process.ts'

let service: ServiceProcess | undefined
let data: DataDir | undefined

afterEach(async () => {
  await service?.kill()
  service = undefined
  await data?.remove()
  data = undefined
})

async function started(env: Record<string, string> = {}, command: ServiceCommand = compiledMain()) {
  const run = await startListening(env, command)
  service = run.service
  return run
}

/** A service on the default store, in a data directory of its own. */
async function durable(env: Record<string, string> = {}) {
  data ??= await freshDataDir()
  return started({ DATA_DIR: data.dir, ...env })
}

/** The stop's phases, in order, when nothing needs aborting. */
const PHASES = [
  'refuse_new_work',
  'stop_http',
  'stop_listener',
  'stop_rescuer',
  'stop_fetcher',
  'close_queue',
  'finish_jobs',
  'stop_leases',
  'close_threads',
  'close_store',
  'stop_database',
]
const withAbort = [...PHASES.slice(0, 7), 'abort_jobs', ...PHASES.slice(7)]

const startedJob = (id: string) => (e: LogEvent) => e.event === 'job_started' && e.job_id === id
const report = (s: ServiceProcess) => s.events.find((e) => e.event === 'shutdown_report')
const phaseOrder = (s: ServiceProcess) =>
  s.events.filter((e) => e.event === 'shutdown_phase_started').map((e) => e.phase)

describe('SIGTERM while jobs run', () => {
  it('shutdown-sigterm-order: exits 0 after logging the phases in order; running jobs finish, and the waiting ones are still pending at the next start', async () => {
    const { service, url } = await durable({ WORKER_COUNT: '2' })
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      const { status, job } = await postJob(url, { type: 'sleep', payload: { ms: 300 } })
      expect(status).toBe(201)
      ids.push(job.id)
    }
    await service.waitFor(startedJob(ids[1]!))
    service.child.kill('SIGTERM')
    expect(await service.exited).toBe(0)
    expect(phaseOrder(service)).toEqual(PHASES)
    const ended = (name: string): unknown[] =>
      service.events.filter((e) => e.event === name).map((e) => e.job_id)
    const ran = ended('job_started')
    expect(ended('job_completed').sort()).toEqual([...ran].sort())
    expect(ran.length).toBeGreaterThanOrEqual(2)
    // The report counts the jobs that were running when the stop began.
    const stopAt = service.events.findIndex((e) => e.event === 'stopping')
    const finishedDuringStop = service.events
      .slice(stopAt)
      .filter((e) => e.event === 'job_completed').length
    expect(finishedDuringStop).toBeGreaterThanOrEqual(1)
    expect(report(service)).toMatchObject({
      jobs_finished: finishedDuringStop,
      jobs_interrupted: 0,
      jobs_abandoned: [],
      jobs_lost: 0,
      exit_code: 0,
    })
    // Read back from the database itself: nothing was left processing,
    // and every job that did not run is pending, for the next start.
    const jobs = await data!.inspect(async (store) => (await store.list({ limit: 10 })).jobs)
    expect(jobs.map((job) => [job.id, job.status])).toEqual(
      ids.map((id) => [id, ran.includes(id) ? 'completed' : 'pending']),
    )
  }, 30_000)
})

describe('requests during the stop', () => {
  it('shutdown-no-201-during-stop: a request that arrives during the stop gets 503 or a refused connection, never a 201', async () => {
    const { service, url } = await started({ WORKER_COUNT: '1' })
    // A running job keeps the stop open while requests keep coming.
    const { status, job } = await postJob(url, { type: 'sleep', payload: { ms: 400 } })
    expect(status).toBe(201)
    await service.waitFor(startedJob(job.id))
    service.child.kill('SIGTERM')
    await service.waitFor((e) => e.event === 'shutdown_phase_started')
    const answers = new Set<string>()
    while (service.child.exitCode === null) {
      const answer = await postJob(url, { type: 'sleep', payload: { ms: 1 } }).then(
        ({ status, job }) => `${status} ${(job as unknown as { error?: string }).error ? 'error' : 'job'}`,
        () => 'refused',
      )
      answers.add(answer)
      if (answer === 'refused') break
    }
    expect(await service.exited).toBe(0)
    expect([...answers].every((a) => a === '503 error' || a === 'refused')).toBe(true)
    expect(answers.has('refused')).toBe(true)
  }, 30_000)

  it('shutdown-ready-process: in the real process, GET /ready answers 200 while serving, and 503 or a refused connection once the stop has begun', async () => {
    const { service, url } = await started({ WORKER_COUNT: '1' })
    expect((await fetch(`${url}/ready`)).status).toBe(200)
    // A running job keeps the stop open after phase 1.
    const { status, job } = await postJob(url, { type: 'sleep', payload: { ms: 400 } })
    expect(status).toBe(201)
    await service.waitFor(startedJob(job.id))
    service.child.kill('SIGTERM')
    await service.waitFor(
      (e) => e.event === 'shutdown_phase_ended' && e.phase === 'refuse_new_work',
    )
    const ready = await fetch(`${url}/ready`).then((r) => r.status, () => 'refused')
    expect([503, 'refused']).toContain(ready)
    expect(await service.exited).toBe(0)
  }, 30_000)

  it('shutdown-keep-alive: an idle keep-alive connection does not hold the stop open', async () => {
    const { service, url } = await started()
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 })
    try {
      const status = await new Promise<number>((resolve, reject) => {
        request(`${url}/health`, { agent }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        }).on('error', reject).end()
      })
      expect(status).toBe(200)
      // The socket is open and idle now. Node would keep it for its
      // keep-alive timeout (5 s); the stop closes it at once.
      service.child.kill('SIGTERM')
      expect(await service.exited).toBe(0)
    } finally {
      agent.destroy()
    }
    const stopHttp = service.events.find(
      (e) => e.event === 'shutdown_phase_ended' && e.phase === 'stop_http',
    )
    expect(report(service)).toMatchObject({ connections_closed: 1 })
    // Far under Node's 5 s keep-alive timeout, with a wide margin.
    expect(stopHttp?.duration_ms).toBeLessThan(2_500)
  }, 30_000)
})

describe('the deadline', () => {
  it('shutdown-abandoned: a job that ignores its signal is reported abandoned, and the process still exits, non-zero', async () => {
    // `stubborn` jobs ignore their signal; only this entry registers them.
    const { service, url } = await started(
      { WORKER_COUNT: '1', SHUTDOWN_TIMEOUT: '200ms', SHUTDOWN_GRACE: '200ms' },
      testEntry('stubborn-main'),
    )
    const { status, job } = await postJob(url, { type: 'stubborn', payload: { ms: 60_000 } })
    expect(status).toBe(201)
    await service.waitFor(startedJob(job.id))
    service.child.kill('SIGTERM')
    expect(await service.exited).toBe(1)
    expect(phaseOrder(service)).toEqual(withAbort)
    expect(report(service)).toMatchObject({ jobs_abandoned: [job.id], exit_code: 1 })
  }, 30_000)

  it('shutdown-deadline-interrupts: a job still running at the deadline is given back pending, written with a live signal, and runs at the next start', async () => {
    const { service, url } = await durable({ WORKER_COUNT: '1', SHUTDOWN_TIMEOUT: '200ms' })
    const { status, job } = await postJob(url, { type: 'sleep', payload: { ms: 60_000 } })
    expect(status).toBe(201)
    await service.waitFor(startedJob(job.id))
    service.child.kill('SIGTERM')
    expect(await service.exited).toBe(0)
    expect(report(service)).toMatchObject({ jobs_interrupted: 1, jobs_finished: 0, jobs_abandoned: [] })
    expect(service.events.some((e) => e.event === 'job_interrupted' && e.job_id === job.id)).toBe(true)
    const next = await durable({ WORKER_COUNT: '1', SHUTDOWN_TIMEOUT: '0ms' })
    await next.service.waitFor(startedJob(job.id))
  }, 30_000)

  it('shutdown-second-signal: a second SIGTERM skips to aborting the running jobs at once', async () => {
    // The deadline is far beyond the test's own timeout: only the second
    // signal can end this stop in time.
    const { service, url } = await durable({ WORKER_COUNT: '1', SHUTDOWN_TIMEOUT: '5m' })
    // The job would run for 60 s, three times the test's own timeout.
    const { status, job } = await postJob(url, { type: 'sleep', payload: { ms: 60_000 } })
    expect(status).toBe(201)
    await service.waitFor(startedJob(job.id))
    service.child.kill('SIGTERM')
    await service.waitFor((e) => e.event === 'shutdown_phase_started' && e.phase === 'finish_jobs')
    service.child.kill('SIGTERM')
    expect(await service.exited).toBe(0)
    expect(phaseOrder(service)).toEqual(withAbort)
    expect(report(service)).toMatchObject({ jobs_interrupted: 1 })
  }, 20_000)
})
