import { request, Agent } from 'node:http'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Channel } from '../src/concurrency/channel.ts'
import type { JobEvent, JobEventName } from '../src/jobs/events.ts'
import { loadConfig, type Config } from '../src/config.ts'
import type { Job } from '../src/jobs/job.ts'
import { createLogger } from '../src/jobs/log.ts'
import { createService, type Service } from '../src/service.ts'
import { gatedHandlers, nextRun } from './jobs/support.ts'

const config: Config = {
  host: '127.0.0.1',
  port: 0,
  workerCount: 2,
  queueCapacity: 10,
  retention: 100,
  shutdownTimeoutMs: 600_000,
  shutdownGraceMs: 1_000,
  jobTimeoutMs: 600_000,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  sweeperIntervalMs: 600_000,
  cpuPoolSize: 1,
  logLevel: 'silent',
  http: loadConfig({}).http,
}

let running: Service | undefined

afterEach(async () => {
  await running?.stop()
  running = undefined
})

function serviceWith(overrides: Partial<Config> = {}) {
  const gated = gatedHandlers()
  const logger = createLogger({ level: 'silent' })
  const service = createService({ ...config, ...overrides }, { handlers: gated.handlers, logger })
  running = service
  return { service, ...gated }
}

function post(service: Service, body: unknown) {
  return service.app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
}

describe('createService', () => {
  it('worker-handler-returns-at-once: POST /jobs answers 201 with a pending job before its handler has finished', async () => {
    const { service, started } = serviceWith()
    await service.start()
    const res = await post(service, { type: 'gated' })
    expect(res.status).toBe(201)
    const job = (await res.json()) as Job
    expect(job.status).toBe('pending')
    const run = await nextRun(started)
    expect(run.job.id).toBe(job.id)
    expect((await service.store.get(job.id))?.status).toBe('processing')
    run.finish()
    await service.stop()
    expect((await service.store.get(job.id))?.status).toBe('completed')
  })

  it('serves the app on a real socket at the URL start() returns', async () => {
    const { service } = serviceWith()
    const url = await service.start()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await fetch(`${url}/health`, { headers: { Connection: 'close' } })
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  it('pool-stop-order: a stop refuses new jobs at once, lets the running job finish, then closes the queue', async () => {
    const { service, started } = serviceWith()
    await service.start()
    const job = (await (await post(service, { type: 'gated' })).json()) as Job
    const run = await nextRun(started)
    const stopped = service.stop()
    const refused = await post(service, { type: 'gated' })
    expect(refused.status).toBe(503)
    expect(run.signal.aborted).toBe(false)
    run.finish()
    // The job ended before the workers were told to stop: it was finished,
    // not held, when the stop reached them.
    expect(await stopped).toMatchObject({
      jobs_requeued: 0,
      jobs_abandoned: [],
      exit_code: 0,
    })
    expect(service.queue.closed).toBe(true)
    expect((await service.store.list()).map((j) => [j.id, j.status])).toEqual([[job.id, 'completed']])
  })

  it('aborts running jobs once the shutdown deadline passes, and puts them back to pending', async () => {
    const { service, started } = serviceWith({ shutdownTimeoutMs: 0 })
    await service.start()
    const job = (await (await post(service, { type: 'gated' })).json()) as Job
    await nextRun(started)
    const report = await service.stop()
    expect(report.phases.map((p) => p.name)).toContain('abort_jobs')
    expect(report).toMatchObject({ jobs_requeued: 1, jobs_abandoned: [], exit_code: 0 })
    expect(await service.store.get(job.id)).toMatchObject({ status: 'pending', attempts: 1 })
  })

  it('skeleton-idle-keep-alive: an idle keep-alive connection does not hold the stop open', async () => {
    const { service } = serviceWith()
    const url = new URL(await service.start())
    const agent = new Agent({ keepAlive: true })
    const req = request({ host: url.hostname, port: url.port, path: '/health', agent })
    req.end()
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
    res.resume()
    await once(res, 'end')
    const socket = req.socket
    expect(socket?.destroyed).toBe(false) // kept alive, idle
    // With a 10-minute deadline, only closing idle connections ends this.
    await service.stop()
    if (!socket?.destroyed) await once(socket!, 'close')
    expect(socket?.destroyed).toBe(true)
    agent.destroy()
  })

  it('stop() is idempotent and safe before start()', async () => {
    const { service } = serviceWith()
    const first = service.stop()
    expect(service.stop()).toBe(first)
    expect(await first).toMatchObject({ jobs_finished: 0, exit_code: 0 })
  })
})

/** Events of `service`, to wait on instead of sleeping. */
function watch(service: Service) {
  const seen = new Channel<JobEvent>(10_000)
  service.events.subscribe((event) => void seen.trySend(event))
  return async (name: JobEventName) => {
    for await (const event of seen) if (event.event === name) return event
    throw new Error(`no ${name}`)
  }
}

function realService(overrides: Partial<Config> = {}, logger = createLogger({ level: 'silent' })) {
  const service = createService({ ...config, ...overrides }, { logger, random: () => 0 })
  running = service
  return service
}

describe('the service, wired', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries-service-sweeper: a failed attempt is retried by the sweeper the service runs, then completes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const service = realService({ retryBaseMs: 100, retryMaxMs: 100, sweeperIntervalMs: 1_000 })
    const next = watch(service)
    await service.start()
    const job = (await (await post(service, { type: 'fail', payload: { times: 1 } })).json()) as Job
    expect(await next('job_retried')).toMatchObject({ job_id: job.id, attempt: 1 })
    expect((await service.store.get(job.id))?.status).toBe('retrying')
    await vi.advanceTimersByTimeAsync(1_000) // the sweeper's next pass
    expect(await next('job_completed')).toMatchObject({ job_id: job.id, attempt: 2 })
    const metrics = await (await service.app.request('/metrics')).json()
    expect(metrics).toEqual({
      jobs_created: 1,
      jobs_completed: 1,
      jobs_failed: 0,
      jobs_retried: 1,
      jobs_canceled: 0,
      jobs_timed_out: 0,
      jobs_in_progress: 0,
      queue_depth: 0,
    })
  })

  it('observability-service-metrics: after a known sequence of jobs, GET /metrics counts each outcome', async () => {
    const service = realService({ workerCount: 1 })
    const next = watch(service)
    await service.start()
    await post(service, { type: 'sleep', payload: { ms: 0 } })
    await next('job_completed')
    await post(service, { type: 'fail', max_retries: 0 })
    await next('job_failed')
    await post(service, { type: 'sleep', payload: { ms: 0 } })
    await next('job_completed')
    // One that waits forever, canceled while it runs.
    const held = (await (await post(service, { type: 'sleep', payload: { ms: 60_000 } })).json()) as Job
    await next('job_started')
    const cancel = await service.app.request(`/jobs/${held.id}/cancel`, { method: 'POST' })
    expect(cancel.status).toBe(202)
    await next('job_canceled')
    const text = await (await service.app.request('/metrics?format=prometheus')).text()
    const values = Object.fromEntries(
      text.split('\n').filter((l) => /^\w+ \d+$/.test(l)).map((l) => l.split(' ')),
    )
    expect(values).toMatchObject({
      jobs_created_total: '4',
      jobs_completed_total: '2',
      jobs_failed_total: '1',
      jobs_canceled_total: '1',
      jobs_in_progress: '0',
      queue_depth: '0',
    })
  })

  it('observability-service-logs: the service logs job events as JSON lines with event, job_id, worker_id and attempt', async () => {
    const lines: Record<string, unknown>[] = []
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>)
        done()
      },
    })
    const service = realService({ workerCount: 1 }, createLogger({ level: 'info', destination }))
    const next = watch(service)
    await service.start()
    const job = (await (await post(service, { type: 'sleep', payload: { ms: 0 } })).json()) as Job
    await next('job_completed')
    await service.stop()
    // The job and worker events; the service's own (recovery, the
    // listening address, the shutdown's phases) are tested elsewhere.
    const jobLines = lines.filter((l) => /^(?:job|worker)_/.test(String(l['event'])))
    expect(jobLines.map((l) => l['event'])).toEqual([
      'worker_started',
      'job_created',
      'job_enqueued',
      'job_started',
      'job_completed',
      'worker_stopped',
    ])
    expect(jobLines[4]).toMatchObject({
      level: 'info',
      event: 'job_completed',
      job_id: job.id,
      worker_id: 'worker-1',
      attempt: 1,
    })
    expect(JSON.stringify(lines)).not.toContain('payload')
  })

  it('runs hash jobs on its thread pool, and a stop leaves no thread behind', async () => {
    const service = realService()
    const next = watch(service)
    await service.start()
    const res = await post(service, { type: 'hash', payload: { rounds: 1_000 } })
    expect(res.status).toBe(201)
    const job = (await res.json()) as Job
    expect(await next('job_completed')).toMatchObject({ job_id: job.id })
    await service.stop()
    // The leak check after this test fails if a worker thread is alive.
    expect((await service.store.get(job.id))?.status).toBe('completed')
  })
})
