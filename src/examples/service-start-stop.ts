/**
 * The service's whole life in a few lines: start on a free port, answer a
 * health check over a real socket, stop in order.
 */
import { loadConfig } from '../config.ts'
import { createService } from '../service.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  // #region start-stop
  const env = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' }
  const config = loadConfig(env)
  const service = createService(config)
  const url = await service.start()
  out(`listening on ${url}`)

  const res = await fetch(`${url}/health`, { headers: { Connection: 'close' } })
  out(`GET /health → ${res.status} ${await res.text()}`)

  const report = await service.stop()
  out(`stopped with exit code ${report.exit_code}, in phases:`)
  out(report.phases.map((phase) => phase.name).join(' → '))
  // #endregion start-stop
}

runIfMain(import.meta.url, main)
