/**
 * Latency from submit to start on an idle queue, for one system, in one
 * process: the worker side runs with one idle worker and its defaults, a
 * submitter on its own pool adds one job, and the task records when it
 * starts; then the queue goes idle again (a random pause) before the next
 * sample.
 *   node peer-latency.js '{"system": "workstream" | "graphile",
 *     "url": "...", "samples": 100, "pauseMs": [20, 40],
 *     "env": { "WAKEUPS": "poll" }}'
 * Prints `{ "p50": ms, "p99": ms, "max": ms, "samples": n }` last.
 */
import { makeWorkerUtils, run } from 'graphile-worker'
import pino from 'pino'
import { loadConfig } from '../../src/config.ts'
import { HandlerRegistry } from '../../src/jobs/handlers.ts'
import { createLogger } from '../../src/jobs/log.ts'
import { PostgresStore } from '../../src/jobs/store/postgres.ts'
import { createService } from '../../src/service.ts'

interface Options {
  readonly system: 'workstream' | 'graphile'
  readonly url: string
  readonly samples: number
  /** The shortest and longest pause before each job, in ms. */
  readonly pauseMs: readonly [number, number]
  readonly env?: Record<string, string>
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options
let started: (at: number) => void = () => {}
const onStart = () => started(performance.now())

/** Starts the worker side; returns how to submit one job, and to stop. */
async function start(): Promise<{ submit(): Promise<unknown>; stop(): Promise<unknown> }> {
  if (options.system === 'graphile') {
    const runner = await run({
      connectionString: options.url,
      concurrency: 1,
      noHandleSignals: true,
      taskList: { probe: async () => onStart() },
    })
    const utils = await makeWorkerUtils({ connectionString: options.url })
    return {
      submit: () => utils.addJob('probe', {}),
      stop: async () => {
        await utils.release()
        await runner.stop()
      },
    }
  }
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: options.url,
    WORKER_COUNT: '1',
    PORT: '0',
    HOST: '127.0.0.1',
    ...options.env,
  })
  const handlers = new HandlerRegistry().register('probe', { run: async () => onStart() })
  // Its logs go to stderr: the last line of stdout is the result.
  const logger = createLogger({ destination: pino.destination(2) })
  const service = createService(config, { handlers, logger })
  await service.start()
  // Another pool, as graphile's `addJob` has: the wake-up comes through
  // the database, as it does for a job posted to another instance.
  const submitter = await PostgresStore.open({ connectionString: options.url, maxConnections: 2 })
  return {
    submit: () => submitter.create({ type: 'probe', payload: null }),
    stop: async () => {
      await submitter.close()
      await service.stop()
    },
  }
}

const system = await start()
const latencies: number[] = []
const [shortest, longest] = options.pauseMs
const pause = () =>
  new Promise((resolve) => setTimeout(resolve, shortest + Math.random() * (longest - shortest)))
for (let i = 0; i < options.samples; i++) {
  await pause()
  const began = performance.now()
  const start = new Promise<number>((resolve) => (started = resolve))
  await system.submit()
  latencies.push((await start) - began)
}
await pause()
await system.stop()
latencies.sort((a, b) => a - b)
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
console.log(
  JSON.stringify({ p50: at(0.5), p99: at(0.99), max: latencies.at(-1), samples: latencies.length }),
)
