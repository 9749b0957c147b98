/**
 * `POST /jobs/:id/cancel` against a real service with one worker: a
 * pending job, a running one, a finished one, an unknown id.
 */
import { Channel } from '../concurrency/channel.ts'
import { loadConfig } from '../config.ts'
import type { JobEvent } from '../jobs/events.ts'
import type { Job } from '../jobs/job.ts'
import { createService, type Service } from '../service.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    WORKER_COUNT: '1',
    LOG_LEVEL: 'silent',
    STORE: 'memory',
  })
  const service = createService(config)
  const events = new Channel<JobEvent>(100)
  service.events.subscribe((event) => void events.trySend(event))
  await service.start()
  const until = async (name: string, id?: string) => {
    for await (const event of events) {
      const mine = id === undefined || ('job_id' in event && event.job_id === id)
      if (event.event === name && mine) return event
    }
    return undefined
  }

  // #region cancel
  const running = await submit(service) // the worker takes it
  await until('job_started')
  const waiting = await submit(service) // waits behind it
  await cancel(service, waiting, 'waiting', out) // 200: canceled now
  await cancel(service, running, 'running', out) // 202: signal aborted
  await until('job_canceled', running)
  const job = (await service.store.get(running)) as Job
  out(`running: after its handler returned: ${job.status}`)
  await cancel(service, running, 'running', out) // 409: finished
  await cancel(service, 'no-such-id', 'unknown', out) // 404
  // #endregion cancel
  const never = (await service.store.get(waiting)) as Job
  out(`waiting: ${never.status}, attempts ${never.attempts}: never claimed`)
  await service.stop()
}

async function submit(service: Service): Promise<string> {
  const res = await service.app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'sleep', payload: { ms: 60_000 } }),
  })
  return ((await res.json()) as Job).id
}

async function cancel(
  service: Service,
  id: string,
  name: string,
  out: (line: string) => void,
): Promise<void> {
  const path = `/jobs/${id}/cancel`
  const res = await service.app.request(path, { method: 'POST' })
  const body = (await res.json()) as Partial<Job> & { error?: string }
  const what = body.status ?? JSON.stringify(body).replace(id, '<id>')
  out(`cancel ${name} → ${res.status} ${what}`)
}

runIfMain(import.meta.url, main)
