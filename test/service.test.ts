import { request, Agent } from 'node:http'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { Channel } from '../src/concurrency/channel.ts'
import type { JobEvent, JobEventName } from '../src/jobs/events.ts'
import { loadConfig, type Config } from '../src/config.ts'
import type { Job } from '../src/jobs/job.ts'
import { createLogger } from '../src/jobs/log.ts'
import { PostgresStore } from '../src/jobs/store/postgres.ts'
import { createService, type Service } from '../src/service.ts'
import { startEmbeddedPostgres } from '../src/jobs/store/embedded.ts'
import { useTestDatabase } from './support/database.ts'
import { freshDataDir } from './support/data-dir.ts'
import { gatedHandlers, nextRun } from './jobs/support.ts'

const config: Config = {
  ...loadConfig({}),
  host: '127.0.0.1',
  port: 0,
  workerCount: 2,
  queueCapacity: 10,
  retention: 100,
  shutdownTimeoutMs: 600_000,
  shutdownGraceMs: 1_000,
  jobTimeoutMs: 600_000,
  cpuPoolSize: 1,
  logLevel: 'silent',
  store: 'memory',
}

const db = useTestDatabase()
let running: Service | undefined

afterEach(async () => {
  await running?.stop()
  running = undefined
})

/** Log lines, kept as objects; `until` waits for one that matches. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = []
  const feed = new Channel<Record<string, unknown>>(100_000)
  const destination = new Writable({
    write(chunk, _encoding, done) {
      const line = JSON.parse(String(chunk)) as Record<string, unknown>
      lines.push(line)
      feed.trySend(line)
      done()
    },
  })
  async function until(match: (line: Record<string, unknown>) => boolean) {
    for await (const line of feed) if (match(line)) return line
    throw new Error('no such line')
  }
  return { lines, until, logger: createLogger({ level: 'info', destination }) }
}

function serviceWith(overrides: Partial<Config> = {}, logger = createLogger({ level: 'silent' })) {
  const gated = gatedHandlers()
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

  it('pool-stop-order: a stop refuses new jobs first, stops the producers, closes the hand-off, and only then waits for the running job', async () => {
    const { lines, until, logger } = capturedLogger()
    const { service, started } = serviceWith({}, logger)
    await service.start()
    const job = (await (await post(service, { type: 'gated' })).json()) as Job
    const run = await nextRun(started)
    const stopped = service.stop()
    // Refused while the job still runs, its signal untouched.
    const refused = await post(service, { type: 'gated' })
    expect(refused.status).toBe(503)
    await until((l) => l['event'] === 'shutdown_phase_started' && l['phase'] === 'finish_jobs')
    expect(run.signal.aborted).toBe(false)
    run.finish()
    const report = await stopped
    expect(report).toMatchObject({ jobs_finished: 1, jobs_interrupted: 0, exit_code: 0 })
    const order = lines
      .filter((l) => l['event'] === 'shutdown_phase_started' || l['event'] === 'job_completed')
      .map((l) => String(l['phase'] ?? l['event']))
    expect(order).toEqual([
      'refuse_new_work',
      'stop_http',
      'stop_listener',
      'stop_rescuer',
      'stop_fetcher',
      'close_queue',
      'finish_jobs',
      'job_completed',
      'stop_leases',
      'close_threads',
      'close_store',
      'stop_database',
    ])
    expect((await service.store.get(job.id))?.status).toBe('completed')
  })

  it('durable-interrupted-not-counted: a job still running at the deadline is given back pending, its attempt not counted', async () => {
    const { service, started } = serviceWith({ shutdownTimeoutMs: 0 })
    await service.start()
    const job = (await (await post(service, { type: 'gated' })).json()) as Job
    await nextRun(started)
    const report = await service.stop()
    expect(report.phases.map((p) => p.name)).toContain('abort_jobs')
    expect(report).toMatchObject({ jobs_interrupted: 1, jobs_abandoned: [] })
    expect(await service.store.get(job.id)).toMatchObject({ status: 'pending', attempts: 0 })
  })

  it('durable-memory-lost: a stop of the memory store with jobs waiting reports them lost and is not clean', async () => {
    const { service } = serviceWith({ workerCount: 1 })
    await service.start()
    for (let i = 0; i < 3; i++) await post(service, { type: 'gated' })
    const report = await service.stop({ hurry: AbortSignal.abort() })
    expect(report.jobs_lost).toBe(3) // one interrupted, two never claimed
    expect(report.exit_code).toBe(1)
  })

  it('shutdown-keep-alive: an idle keep-alive connection does not hold the stop open, even ten minutes from its deadline', async () => {
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
    expect(await first).toMatchObject({ jobs_finished: 0, exit_code: 0, phases: [] })
  })

  it('a start that fails stops what it started, and reports the failure', async () => {
    const { service } = serviceWith({ port: 1, host: '256.0.0.1' })
    await expect(service.start()).rejects.toThrow()
    const report = await service.stop()
    expect(report.phases.map((p) => p.name)).toContain('close_store')
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
  it('retries-service-due: a failed attempt runs again once its run_at is due, claimed like a new job, then completes', async () => {
    const service = realService({ retryBaseMs: 20, retryMaxMs: 20, pollIntervalMs: 10 })
    const next = watch(service)
    await service.start()
    const job = (await (await post(service, { type: 'fail', payload: { times: 1 } })).json()) as Job
    expect(await next('job_retried')).toMatchObject({ job_id: job.id, attempt: 1 })
    expect(await next('job_completed')).toMatchObject({ job_id: job.id, attempt: 2 })
    const metrics = await (await service.app.request('/metrics')).json()
    expect(metrics).toMatchObject({
      jobs_created: 1,
      jobs_completed: 1,
      jobs_failed: 0,
      jobs_retried: 1,
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
    // One that waits a minute, canceled while it runs.
    const held = (await (await post(service, { type: 'sleep', payload: { ms: 60_000 } })).json()) as Job
    await next('job_started')
    const cancel = await service.app.request(`/jobs/${held.id}/cancel`, { method: 'POST' })
    expect(cancel.status).toBe(202)
    await next('job_canceled')
    const text = await (await service.app.request('/metrics?format=prometheus')).text()
    const values = Object.fromEntries(
      text.split('\n').filter((l) => /^[\w{}="]+ \d+$/.test(l)).map((l) => l.split(' ')),
    )
    expect(values).toMatchObject({
      jobs_created_total: '4',
      jobs_completed_total: '2',
      jobs_failed_total: '1',
      jobs_canceled_total: '1',
      jobs_in_progress: '0',
      'jobs_queued{status="completed"}': '2',
      'jobs_queued{status="pending"}': '0',
    })
  })

  it('observability-service-logs: the service logs job events as JSON lines with event, job_id, worker_id and attempt', async () => {
    const { lines, logger } = capturedLogger()
    const service = realService({ workerCount: 1 }, logger)
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
      'job_started',
      'job_completed',
      'worker_stopped',
    ])
    expect(jobLines[3]).toMatchObject({
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

describe('on PostgreSQL', () => {
  it('durable-survives-stop: a job accepted and not run before a stop runs in the next service on the same database', async () => {
    await db.truncate()
    const pg = { store: 'postgres' as const, databaseUrl: db.url }
    const first = serviceWith({ ...pg, workerCount: 1 })
    await first.service.start()
    const busy = (await (await post(first.service, { type: 'gated' })).json()) as Job
    const waiting = (await (await post(first.service, { type: 'gated' })).json()) as Job
    await nextRun(first.started)
    // Deadline at once: the running one is given back, the waiting one waits.
    const report = await first.service.stop({ hurry: AbortSignal.abort() })
    expect(report).toMatchObject({ jobs_interrupted: 1, jobs_lost: 0, exit_code: 0 })
    const second = serviceWith({ ...pg, workerCount: 2 })
    await second.service.start()
    const runs = [await nextRun(second.started), await nextRun(second.started)]
    expect(runs.map((run) => run.job.id).sort()).toEqual([busy.id, waiting.id].sort())
    for (const run of runs) run.finish()
    await second.service.stop()
    const store = await PostgresStore.open({ connectionString: db.url })
    try {
      expect(await store.countByStatus()).toMatchObject({ completed: 2, pending: 0 })
    } finally {
      await store.close()
    }
  })
})

describe('when the database goes away', () => {
  it('durable-database-down: while the database is unreachable /ready and POST /jobs answer 503 and claims back off; when it returns, both recover and jobs run', async () => {
    const data = await freshDataDir()
    let server = await startEmbeddedPostgres({ dataDir: data.dir, fsync: false })
    const { lines, until, logger } = capturedLogger()
    const service = createService(
      { ...config, store: 'postgres', databaseUrl: server.url, pollIntervalMs: 20, wakeups: 'poll' },
      { logger },
    )
    running = service
    try {
      await service.start()
      expect((await service.app.request('/ready')).status).toBe(200)
      await server.stop()
      const ready = await service.app.request('/ready')
      expect([ready.status, await ready.json()]).toEqual([503, { error: 'store unreachable' }])
      const refused = await post(service, { type: 'sleep', payload: { ms: 1 } })
      expect(refused.status).toBe(503)
      expect(refused.headers.get('Retry-After')).toBe('1')
      await until((l) => l['event'] === 'claim_failed')
      server = await startEmbeddedPostgres({ dataDir: data.dir, fsync: false })
      expect((await service.app.request('/ready')).status).toBe(200)
      const job = (await (await post(service, { type: 'sleep', payload: { ms: 1 } })).json()) as Job
      await until((l) => l['event'] === 'job_completed' && l['job_id'] === job.id)
      expect(lines.filter((l) => l['event'] === 'claim_failed').length).toBeGreaterThanOrEqual(1)
    } finally {
      await service.stop()
      running = undefined
      await server.stop()
      await data.remove()
    }
  }, 30_000)
})
