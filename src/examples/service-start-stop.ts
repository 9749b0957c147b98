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
  const config = loadConfig({ ...env, STORE: 'memory' })
  const service = createService(config)
  const url = await service.start()
  out(`listening on ${url}`)

  const close = { headers: { Connection: 'close' } }
  const res = await fetch(`${url}/health`, close)
  out(`GET /health → ${res.status} ${await res.text()}`)

  const report = await service.stop()
  const phases = report.phases.map((phase) => phase.name)
  const code = report.exit_code
  out(`stopped with exit code ${code}, in ${phases.length} phases:`)
  out(`from ${phases[0]} to ${phases.at(-1)}`)
  // #endregion start-stop
}

runIfMain(import.meta.url, main)
