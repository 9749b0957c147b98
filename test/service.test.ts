import { request, Agent } from 'node:http'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import type { Config } from '../src/config.ts'
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
  jobTimeoutMs: 600_000,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  sweeperIntervalMs: 600_000,
  cpuPoolSize: 1,
  logLevel: 'silent',
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
    expect(await stopped).toEqual({ jobsAborted: false, abandoned: false })
    expect(service.queue.closed).toBe(true)
    expect((await service.store.list()).map((j) => [j.id, j.status])).toEqual([[job.id, 'completed']])
  })

  it('aborts running jobs once the shutdown deadline passes, and puts them back to pending', async () => {
    const { service, started } = serviceWith({ shutdownTimeoutMs: 0 })
    await service.start()
    const job = (await (await post(service, { type: 'gated' })).json()) as Job
    await nextRun(started)
    expect(await service.stop()).toEqual({ jobsAborted: true, abandoned: false })
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
    expect(await first).toEqual({ jobsAborted: false, abandoned: false })
  })
})
