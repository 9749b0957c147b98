/**
 * The service exactly as `src/main.ts` composes it, plus one job type the
 * shipped service does not have: `hash-blocking`, the same hash chain run
 * on the event loop (the wrong way, from `src/jobs/cpu/hash.ts`). Only the
 * event-loop case of the `GET /health` row uses it. Stops on SIGTERM.
 */
import { once } from 'node:events'
import { loadConfig } from '../../src/config.ts'
import { blockingHashJob, hashJob } from '../../src/jobs/cpu/hash.ts'
import { createCpuPool } from '../../src/jobs/cpu/pool.ts'
import { defaultHandlers } from '../../src/jobs/handlers.ts'
import { createService } from '../../src/service.ts'

const config = loadConfig(process.env)
const cpuPool = createCpuPool({ size: config.cpuPoolSize })
const handlers = defaultHandlers()
  .register('hash', hashJob(cpuPool))
  .register('hash-blocking', blockingHashJob)
const service = createService(config, { handlers, cpuPool })
await service.start() // logs the `listening` line with the URL
await once(process, 'SIGTERM')
await service.stop()
