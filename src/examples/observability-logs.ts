/**
 * The real service's log lines for one job that fails for good: one line
 * in full, with its keys one a line, then every job and worker line,
 * level and event.
 */
import { Writable } from 'node:stream'
import { Channel } from '../concurrency/channel.ts'
import { loadConfig } from '../config.ts'
import { createLogger } from '../jobs/log.ts'
import { createService } from '../service.ts'
import { runIfMain, type Out } from './run.ts'

type Line = { level: string; event: string } & Record<string, unknown>

export async function main(out: Out): Promise<void> {
  // #region capture
  // A test or a log shipper passes its own destination; here, a list.
  const lines: Line[] = []
  const seen = new Channel<Line>(1_000)
  const destination = new Writable({
    write(chunk, _encoding, done) {
      const line = JSON.parse(String(chunk)) as Line
      lines.push(line)
      seen.trySend(line)
      done()
    },
  })
  const logger = createLogger({ level: 'info', destination })
  const env = { PORT: '0', HOST: '127.0.0.1', WORKER_COUNT: '1' }
  const config = loadConfig({ ...env, STORE: 'memory' })
  const service = createService(config, { logger })
  // #endregion capture
  await service.start()
  await service.app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'fail', max_retries: 0 }),
  })
  for await (const line of seen) if (line.event === 'job_failed') break
  await service.stop()

  const jobLines = lines.filter((l) => /^(job|worker)_/.test(l.event))
  out('one line, as written (its keys one a line here):')
  out(JSON.stringify(jobLines.find((l) => l.event === 'job_failed'), null, 2))
  out('every job and worker line, level and event:')
  for (const line of jobLines) out(`${line.level.padEnd(6)} ${line.event}`)
}

runIfMain(import.meta.url, main)
