/**
 * The handler answers 201 at once; a worker runs the job afterwards. The
 * example waits on the service's own log events, never on the clock.
 */
import { Channel } from '../concurrency/channel.ts'
import { loadConfig } from '../config.ts'
import { createLogger } from '../jobs/log.ts'
import { createService } from '../service.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  const events = new Channel<string>(100)
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    WORKER_COUNT: '1',
    STORE: 'memory',
  })
  const service = createService(config, {
    logger: createLogger({ level: 'silent' }),
  })
  service.events.subscribe((e) => void events.trySend(e.event))
  await service.start()
  const untilEvent = async (name: string) => {
    for await (const event of events) if (event === name) return
  }

  // #region returns-at-once
  const res = await service.app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'sleep', payload: { ms: 100 } }),
  })
  const job = (await res.json()) as { id: string; status: string }
  out(`POST /jobs → ${res.status}, status ${job.status}`)
  // #endregion returns-at-once

  const show = async () => {
    const res = await service.app.request(`/jobs/${job.id}`)
    const { status, attempts } = (await res.json()) as Record<string, unknown>
    out(`GET /jobs/{id} → ${res.status}, status ${status}, attempts ${attempts}`)
  }
  await untilEvent('job_started')
  await show()
  await untilEvent('job_completed')
  await show()
  await service.stop()
}

runIfMain(import.meta.url, main)
