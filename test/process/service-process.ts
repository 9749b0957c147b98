// Runs `src/main.ts` (what `npm start` runs) as a child process and reads
// its JSON log lines as events, so a test waits for what the service says
// it did instead of sleeping.
import { spawn as spawnChild, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Channel } from '../../src/concurrency/channel.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** One JSON log line of the service. */
export type LogEvent = { event: string } & Record<string, unknown>

export interface ServiceProcess {
  readonly child: ChildProcess
  /** Every event logged so far, in order. */
  readonly events: LogEvent[]
  /** Waits for the next event that matches; throws if the output ends first. */
  waitFor(match: (event: LogEvent) => boolean): Promise<LogEvent>
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>
  /** What it wrote on stderr. */
  stderr(): string
  /** Kills it if still running and waits until it is gone. */
  kill(): Promise<void>
}

/** Starts the service with `env` added to this process's environment. */
export function startService(env: Record<string, string>): ServiceProcess {
  const child = spawnChild(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const events: LogEvent[] = []
  const lines = new Channel<LogEvent>(Number.MAX_SAFE_INTEGER)
  let errors = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk))
  const reader = createInterface({ input: child.stdout! })
  reader.on('line', (line) => {
    const event = JSON.parse(line) as LogEvent
    events.push(event)
    lines.trySend(event)
  })
  reader.on('close', () => lines.close())
  const exited = once(child, 'close').then(() => child.exitCode)
  return {
    child,
    events,
    exited,
    stderr: () => errors,
    async waitFor(match) {
      for await (const event of lines) if (match(event)) return event
      throw new Error(`service output ended; stderr: ${errors}`)
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
