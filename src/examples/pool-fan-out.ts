/**
 * Twelve jobs, four workers, one fetcher and its channel: how many ran
 * at once, and how many times each ran.
 */
import { Channel } from '../concurrency/channel.ts'
import { loadConfig } from '../config.ts'
import { createLogger } from '../jobs/log.ts'
import { createService } from '../service.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  const events = new Channel<Record<string, unknown>>(1000)
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    WORKER_COUNT: '4',
    STORE: 'memory',
  })
  const service = createService(config, {
    logger: createLogger({ level: 'silent' }),
  })
  service.events.subscribe((event) => void events.trySend({ ...event }))
  await service.start()

  const jobs = 12
  for (let i = 0; i < jobs; i++) {
    await service.app.request('/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'sleep', payload: { ms: 10 + (i % 3) * 10 } }),
    })
  }

  // Count from the workers' own events: runs per job, and the most at once.
  let running = 0
  let most = 0
  const runs = new Map<string, number>()
  const workers = new Set<unknown>()
  for (let completed = 0; completed < jobs; ) {
    const { value: e } = await events.recv()
    if (e?.event === 'job_started') {
      running += 1
      most = Math.max(most, running)
      runs.set(String(e['job_id']), (runs.get(String(e['job_id'])) ?? 0) + 1)
      workers.add(e['worker_id'])
    }
    if (e?.event === 'job_completed') {
      running -= 1
      completed += 1
    }
  }
  out(`${jobs} jobs, ${config.workerCount} workers`)
  out(`workers that ran jobs: ${workers.size}`)
  out(`most jobs running at once: ${most}`)
  out(`jobs run exactly once: ${[...runs.values()].filter((n) => n === 1).length}`)
  await service.stop()
}

runIfMain(import.meta.url, main)
