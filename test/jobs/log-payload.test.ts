import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { Channel } from '../../src/concurrency/channel.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import type { JobEvent, JobEventName } from '../../src/jobs/events.ts'
import type { Job } from '../../src/jobs/job.ts'
import { sleep } from '../../src/concurrency/abort.ts'
import { hashJob } from '../../src/jobs/cpu/hash.ts'
import { createCpuPool } from '../../src/jobs/cpu/pool.ts'
import { defaultHandlers, type JobType } from '../../src/jobs/handlers.ts'
import { createLogger } from '../../src/jobs/log.ts'
import { createService, type Service } from '../../src/service.ts'

// A value no log line has any reason to hold, unless it copied a payload.
const SENTINEL = 'sentinel-7f3a9c2e'

// The defaults, with the store in memory (STORE, where the service has
// more than one), and what this test needs.
const config: Config = {
  ...loadConfig({ STORE: 'memory' }),
  host: '127.0.0.1',
  port: 0,
  workerCount: 2,
  queueCapacity: 10,
  retention: 100,
  shutdownTimeoutMs: 0, // a stop aborts whatever still runs: one more path
  shutdownGraceMs: 1_000,
  jobTimeoutMs: 600_000,
  retryBaseMs: 600_000, // a retried job waits: it is canceled while it waits
  retryMaxMs: 600_000,
  cpuPoolSize: 1,
  logLevel: 'silent',
}

let running: Service | undefined

afterEach(async () => {
  await running?.stop()
  running = undefined
})

/** The real service, logging every level into `lines`, as raw text. */
function loggedService() {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const logger = createLogger({ level: 'trace', destination })
  // The service's own types check their payloads strictly; an
  // application's own type (`carry`) takes any payload, and does what
  // its `do` says: the paths a sentinel must ride through.
  const cpuPool = createCpuPool({ size: 1 })
  const handlers = defaultHandlers()
    .register('hash', { ...hashJob(cpuPool), concurrency: 1 })
    .register('carry', carry)
  const service = createService(config, { logger, random: () => 0, cpuPool, handlers })
  running = service
  return { service, lines }
}

/** Events of `service`, to wait on instead of sleeping. */
function watch(service: Service) {
  const seen = new Channel<JobEvent>(10_000)
  service.events.subscribe((event) => void seen.trySend(event))
  return async (name: JobEventName, jobId?: string) => {
    for await (const event of seen) {
      const ofJob = jobId === undefined || ('job_id' in event && event.job_id === jobId)
      if (event.event === name && ofJob) return event
    }
    throw new Error(`no ${name}`)
  }
}

function post(service: Service, body: string) {
  return service.app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
  })
}

/** Completes, fails, or waits until its signal aborts, as told. */
const carry: JobType = {
  async run(job, { signal }) {
    const what = (job.payload as { do?: string }).do
    if (what === 'fail') throw new Error('failed on purpose')
    if (what === 'wait') await sleep(600_000, { signal })
  },
}

/** A payload that carries the sentinel as a value and in a key. */
const secret = (fields: Record<string, unknown> = {}) => ({
  ...fields,
  note: SENTINEL,
  [`${SENTINEL}-key`]: true,
  nested: { deeper: [SENTINEL] },
})

describe('what the service logs', () => {
  it('observability-service-logs: no log line, at any level, on any path, holds a job’s payload', async () => {
    const { service, lines } = loggedService()
    const next = watch(service)
    // A listener that fails on every event: each failure is logged too.
    service.events.subscribe(() => {
      throw new Error('listener broke')
    })
    await service.start()
    const create = async (job: Record<string, unknown>) => {
      const res = await post(service, JSON.stringify(job))
      expect(res.status, JSON.stringify(job)).toBe(201)
      return ((await res.json()) as Job).id
    }

    // Completed, on the event loop and on the thread pool (whose payload
    // is checked strictly: the sentinel rides in its type's one field).
    const done = await create({ type: 'carry', payload: secret({ do: 'complete' }) })
    await next('job_completed', done)
    const hashed = await create({ type: 'hash', payload: { rounds: 10 } })
    await next('job_completed', hashed)
    // Failed: an attempt retried later, and one failed for good.
    const retried = await create({ type: 'carry', payload: secret({ do: 'fail' }) })
    await next('job_retried', retried)
    const failed = await create({ type: 'carry', payload: secret({ do: 'fail' }), max_retries: 0 })
    await next('job_failed', failed)
    // Timed out.
    const late = await create({ type: 'carry', payload: secret({ do: 'wait' }), timeout_ms: 1 })
    await next('job_timed_out', late)
    // Canceled while it runs, and while it waits for its retry.
    const held = await create({ type: 'carry', payload: secret({ do: 'wait' }) })
    await next('job_started', held)
    expect((await service.app.request(`/jobs/${held}/cancel`, { method: 'POST' })).status).toBe(202)
    await next('job_canceled', held)
    expect((await service.app.request(`/jobs/${retried}/cancel`, { method: 'POST' })).status).toBe(200)
    // Refused: an unknown type, a payload the type rejects, broken JSON.
    const refused = [
      JSON.stringify({ type: 'nope', payload: secret() }),
      JSON.stringify({ type: 'sleep', payload: secret({ ms: SENTINEL }) }),
      JSON.stringify({ type: SENTINEL }),
      `{"type":"sleep","payload":{"note":"${SENTINEL}"`,
    ]
    for (const body of refused) expect((await post(service, body)).status, body).toBe(400)
    // Still running when the stop comes: aborted and put back to pending.
    const cut = await create({ type: 'carry', payload: secret({ do: 'wait' }) })
    await next('job_started', cut)
    await service.stop()

    // The sentinel was in the jobs: the store kept every payload whole.
    expect(JSON.stringify(await service.store.get(cut))).toContain(SENTINEL)
    // Every path was taken and logged...
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    const events = new Set(logged.map((line) => line['event']))
    for (const event of [
      'job_created',
      'job_started',
      'job_completed',
      'job_retried',
      'job_failed',
      'job_timed_out',
      'job_canceled',
      'job_interrupted',
      'listener_failed',
      'shutdown_report',
    ]) {
      expect(events, event).toContain(event)
    }
    const levels = new Set(logged.map((line) => line['level']))
    for (const level of ['info', 'warn', 'error']) expect(levels, level).toContain(level)
    // ...and no line holds the payload, or any part of it.
    expect(lines.filter((line) => line.includes(SENTINEL))).toEqual([])
  })
})
