/**
 * The job service as a child process, started the way `npm start` does
 * (`src/main.ts`), with its JSON logs on a pipe that is drained unread
 * once the `listening` line has given the URL.
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { sourceFile, spawnNode } from './child.ts'

/** A running service process. */
export interface ServiceProcess {
  readonly url: string
  readonly process: ChildProcess
  /** Sends `signal` (SIGTERM); resolves with the exit code and the ms it took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>
}

/**
 * Starts `src/main` (or `file`, which must log the same `listening` line)
 * on a free port of 127.0.0.1 with `env` added. The store is the memory
 * one unless `env` names another: these rows measure the process, not the
 * database.
 */
export async function startService(
  env: Readonly<Record<string, string>> = {},
  file = sourceFile('main'),
): Promise<ServiceProcess> {
  const child = spawnNode(file, {
    env: { HOST: '127.0.0.1', PORT: '0', STORE: 'memory', ...env },
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const exited = once(child, 'exit') as Promise<[number | null]>
  const reader = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((resolve, reject) => {
    reader.on('line', (line) => {
      if (!line.startsWith('{')) return
      const event = JSON.parse(line) as { event?: string; url?: string }
      if (event.event === 'listening' && event.url) resolve(event.url)
    })
    exited.then(([code]) => reject(new Error(`service exited with ${code}: ${stderr}`)))
  })
  // From here on the logs are read and dropped, so the pipe never fills.
  reader.close()
  child.stdout?.resume()
  return {
    url,
    process: child,
    async stop(signal = 'SIGTERM') {
      const start = performance.now()
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const [code] = await exited
      return { code, ms: performance.now() - start }
    },
  }
}

/** `POST /jobs` with `input`; resolves with the status and the body text. */
export async function postJob(
  url: string,
  input: unknown,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  })
  return { status: response.status, body: await response.text() }
}
