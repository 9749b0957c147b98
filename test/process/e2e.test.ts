import { afterEach, describe, expect, it } from 'vitest'
import type { Job } from '../../src/jobs/job.ts'
import { postJob, startListening, startService, type ServiceProcess } from './service-process.ts'

let service: ServiceProcess | undefined

afterEach(async () => {
  await service?.kill()
  service = undefined
})

async function started(env: Record<string, string> = {}) {
  const run = await startListening({ LOG_LEVEL: 'debug', ...env })
  service = run.service
  return run
}

describe('the service as a process', () => {
  it('skeleton-process-e2e: npm start serves the API, runs jobs, and exits 0 on SIGTERM', async () => {
    const { service, url } = await started({ WORKER_COUNT: '3' })
    const health = await fetch(`${url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })

    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      const { status, job } = await postJob(url, { type: 'sleep', payload: { ms: 5 * i } })
      expect(status).toBe(201)
      ids.push(job.id)
    }
    // Watch them complete, as the service reports it.
    const remaining = new Set(ids)
    while (remaining.size > 0) {
      const done = await service.waitFor((e) => e.event === 'job_completed')
      remaining.delete(done.job_id as string)
    }
    const jobs = (await (await fetch(`${url}/jobs`)).json()) as Job[]
    expect(jobs.map((job) => [job.id, job.status])).toEqual(ids.map((id) => [id, 'completed']))

    service.child.kill('SIGTERM')
    expect(await service.exited).toBe(0)
    expect(service.events.at(-1)).toMatchObject({ event: 'shutdown_report', exit_code: 0 })
  }, 30_000)

  it('skeleton-stop-finishes-job: SIGTERM during a job lets it complete before the process exits 0', async () => {
    const { service, url } = await started({ WORKER_COUNT: '1' })
    const { job } = await postJob(url, { type: 'sleep', payload: { ms: 1500 } })
    await service.waitFor((e) => e.event === 'job_started' && e.job_id === job.id)
    service.child.kill('SIGTERM')
    expect(await service.exited).toBe(0)
    const names = service.events.map((e) => e.event)
    expect(names.indexOf('stopping')).toBeLessThan(names.indexOf('job_completed'))
    expect(names.indexOf('job_completed')).toBeLessThan(names.indexOf('shutdown_report'))
  }, 30_000)

  it('configuration-exit-2: a bad variable stops the start with exit code 2 and a message naming it', async () => {
    service = startService({ WORKER_COUNT: 'many' })
    expect(await service.exited).toBe(2)
    expect(service.stderr()).toBe(
      'invalid configuration: WORKER_COUNT: expected an integer from 1 to 1000, got "many"\n',
    )
  }, 30_000)
})
