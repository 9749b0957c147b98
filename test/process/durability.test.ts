// What a 201 promises, tested on the real process with its default store:
// an embedded PostgreSQL in DATA_DIR. Each test kills or stops `src/main.ts`
// (what `npm start` runs) while jobs run, starts it again on the same data,
// and checks every acknowledged job. It waits for what the service logs,
// never for a fixed time.
import { afterEach, describe, expect, it } from 'vitest'
import type { Job } from '../../src/jobs/job.ts'
import { freshDataDir, type DataDir } from '../support/data-dir.ts'
import {
  compiledMain,
  postJob,
  startListening,
  startService,
  type ServiceProcess,
} from './service-process.ts'

let services: ServiceProcess[] = []
let data: DataDir | undefined

afterEach(async () => {
  for (const service of services) await service.kill()
  services = []
  await data?.remove()
  data = undefined
})

async function started(env: Record<string, string>) {
  const run = await startListening(
    { WORKER_COUNT: '4', JOB_QUEUE_CAPACITY: '10000', ...env },
    compiledMain(),
  )
  services.push(run.service)
  return run
}

/** Posts `count` sleep jobs, `parallel` at a time; the ids that got a 201. */
async function postMany(url: string, count: number, ms: number, parallel = 8) {
  const acknowledged: string[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next += 1
        const { status, job } = await postJob(url, { type: 'sleep', payload: { ms } })
        if (status === 201) acknowledged.push(job.id)
      }
    }),
  )
  return acknowledged
}

/** Every job of the service at `url`, following the pages. */
async function allJobs(url: string): Promise<Job[]> {
  const jobs: Job[] = []
  let next: string | undefined = '/jobs?limit=1000'
  while (next !== undefined) {
    const res = await fetch(`${url}${next}`)
    jobs.push(...((await res.json()) as Job[]))
    next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('Link') ?? '')?.[1]
  }
  return jobs
}

/**
 * Waits until every one of `ids` is completed: by an earlier process (the
 * database says so), or by `service` (it logs so). A job the killed
 * process completed just before it died may never have been logged.
 */
async function completes(service: ServiceProcess, url: string, ids: Iterable<string>) {
  const left = new Set(ids)
  for (const job of await allJobs(url)) if (job.status === 'completed') left.delete(job.id)
  for (const e of service.events) if (e.event === 'job_completed') left.delete(e.job_id as string)
  while (left.size > 0) {
    const done = await service.waitFor((e) => e.event === 'job_completed')
    left.delete(done.job_id as string)
  }
}

const idsOf = (service: ServiceProcess, event: string) =>
  service.events.filter((e) => e.event === event).map((e) => e.job_id as string)

describe('a 201 is kept through a crash', () => {
  it('durable-sigkill: after SIGKILL under load and a restart on the same DATA_DIR, every job that got a 201 completes; re-runs are no more than the jobs that were running', async () => {
    data = await freshDataDir()
    const env = { DATA_DIR: data.dir, POLL_INTERVAL: '50ms' }
    const first = await started(env)
    const acknowledged = await postMany(first.url, 120, 40)
    // Kill it mid-work: once some jobs have completed and others run.
    while (idsOf(first.service, 'job_completed').length < 10) {
      await first.service.waitFor((e) => e.event === 'job_completed')
    }
    first.service.child.kill('SIGKILL')
    await first.service.exited
    const doneBefore = new Set(idsOf(first.service, 'job_completed'))
    const startedBefore = new Set(idsOf(first.service, 'job_started'))
    const cutShort = [...startedBefore].filter((id) => !doneBefore.has(id))

    const second = await started(env)
    const { event, ...adopted } = second.service.events.find((e) => e.event === 'database_started')!
    expect(adopted).toMatchObject({ adopted: true }) // its PostgreSQL outlived it
    // What was running comes back at once: no more than the workers held.
    const rescued = second.service.events.find((e) => e.event === 'recovered')?.['rescued']
    expect(rescued).toBeGreaterThanOrEqual(1)
    expect(rescued).toBeLessThanOrEqual(4)
    await completes(second.service, second.url, acknowledged.filter((id) => !doneBefore.has(id)))
    const jobs = await allJobs(second.url)
    expect(jobs.map((job) => job.id).sort()).toEqual([...acknowledged].sort())
    expect(jobs.every((job) => job.status === 'completed')).toBe(true)
    // At least once: only jobs cut short ran again, none that had finished.
    const ranAgain = idsOf(second.service, 'job_started').filter((id) => startedBefore.has(id))
    expect(ranAgain.every((id) => cutShort.includes(id))).toBe(true)
    expect(ranAgain.length).toBeLessThanOrEqual(Number(rescued))
    second.service.child.kill('SIGTERM')
    expect(await second.service.exited).toBe(0)
    expect(event).toBe('database_started')
  }, 60_000)

  it('durable-sigterm: after SIGTERM under load and a restart, every acknowledged job completes, and the stop reports none lost', async () => {
    data = await freshDataDir()
    const env = { DATA_DIR: data.dir, POLL_INTERVAL: '50ms' }
    const first = await started(env)
    const acknowledged = await postMany(first.url, 60, 40)
    await first.service.waitFor((e) => e.event === 'job_completed')
    first.service.child.kill('SIGTERM')
    expect(await first.service.exited).toBe(0)
    expect(first.service.events.at(-1)).toMatchObject({
      event: 'shutdown_report',
      jobs_lost: 0,
      jobs_abandoned: [],
      exit_code: 0,
    })
    const doneBefore = new Set(idsOf(first.service, 'job_completed'))
    expect(doneBefore.size).toBeLessThan(acknowledged.length) // some waited

    const second = await started(env)
    await completes(second.service, second.url, acknowledged.filter((id) => !doneBefore.has(id)))
    const jobs = await allJobs(second.url)
    expect(jobs.map((job) => job.id).sort()).toEqual([...acknowledged].sort())
    expect(jobs.every((job) => job.status === 'completed')).toBe(true)
    second.service.child.kill('SIGTERM')
    expect(await second.service.exited).toBe(0)
  }, 60_000)
})

describe('the embedded server', () => {
  it('durable-server-owned: a clean stop stops the server it started; kill -9 leaves it running for the next start', async () => {
    data = await freshDataDir()
    const env = { DATA_DIR: data.dir }
    const first = await started(env)
    first.service.child.kill('SIGTERM')
    expect(await first.service.exited).toBe(0)
    expect(await data.stopLeftover()).toBe(false) // none left behind
    const second = await started(env)
    expect(second.service.events.find((e) => e.event === 'database_started')).toMatchObject({
      adopted: false,
    })
    second.service.child.kill('SIGKILL')
    await second.service.exited
    const third = await started(env)
    expect(third.service.events.find((e) => e.event === 'database_started')).toMatchObject({
      adopted: true,
    })
    const { status } = await postJob(third.url, { type: 'sleep', payload: { ms: 0 } })
    expect(status).toBe(201)
    third.service.child.kill('SIGTERM')
    expect(await third.service.exited).toBe(0)
    expect(await data.stopLeftover()).toBe(false)
  }, 60_000)

  it('durable-one-service-per-dir: a second service on a data directory in use stops at once with a clear error', async () => {
    data = await freshDataDir()
    const first = await started({ DATA_DIR: data.dir })
    const second = startService({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: data.dir }, compiledMain())
    services.push(second)
    expect(await second.exited).toBe(1)
    const failure = second.events.find((e) => e.event === 'start_failed')
    expect(failure?.['error']).toMatch(
      new RegExp(`DATA_DIR .* is in use by process ${first.service.child.pid}`),
    )
    // The first one never noticed.
    expect((await fetch(`${first.url}/ready`)).status).toBe(200)
  }, 60_000)
})
