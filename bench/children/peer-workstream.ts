/**
 * This service, as `npm start` runs it (`src/main`, configured by the
 * environment: DATABASE_URL, WORKER_COUNT...), with the benchmark's job
 * types instead of the demonstration ones:
 *   noop   does nothing (the drain rows);
 *   hold   waits until its attempt is aborted (keeps a worker busy, so
 *          that jobs posted meanwhile stay waiting: the enqueue row).
 * It logs `listening` with its URL, as the service does.
 */
import { HandlerRegistry } from '../../src/jobs/handlers.ts'
import { runProcess } from '../../src/main.ts'

const handlers = new HandlerRegistry()
  .register('noop', { run: async () => {} })
  .register('hold', {
    run: (_job, { signal }) =>
      new Promise<void>((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      }),
  })

runProcess({ handlers })
