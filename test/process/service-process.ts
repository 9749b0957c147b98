// Runs the service as a child process (by default `src/main.ts` under
// tsx, as `npm start` runs it; or another command, such as the compiled
// `node dist/main.js`, or `npm start` itself) and reads its JSON log lines
// as events, so a test waits for what the service says it did instead of
// sleeping.
import { spawn as spawnChild, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'
import { Channel } from '../../src/concurrency/channel.ts'
import type { Job } from '../../src/jobs/job.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** One JSON log line of the service. */
export type LogEvent = { event: string } & Record<string, unknown>

export interface ServiceProcess {
  readonly child: ChildProcess
  /** Every event logged so far, in order. */
  readonly events: LogEvent[]
  /** Waits for the next event that matches; throws if the output ends first. */
  waitFor(match: (event: LogEvent) => boolean): Promise<LogEvent>
  /**
   * The first event, logged already or to come, that matches. Unlike
   * `waitFor` it takes nothing from the others: any number may wait at once.
   */
  until(match: (event: LogEvent) => boolean): Promise<LogEvent>
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>
  /** What it wrote on stderr. */
  stderr(): string
  /** Kills it if still running and waits until it is gone. */
  kill(): Promise<void>
}

/** A command that runs the service, from the project's root. */
export interface ServiceCommand {
  readonly file: string
  readonly args: readonly string[]
  /** In a process group of its own (its pid is the group's id). */
  readonly detached?: boolean
}

/** `src/main.ts` under tsx's loader: what `npm start` runs. */
export const SOURCE_MAIN: ServiceCommand = {
  file: process.execPath,
  args: ['--import', 'tsx', 'src/main.ts'],
}

/**
 * The compiled service (`node dist/main.js`, built once per run by
 * test/setup/build.ts): what process managers run, and twice as quick to
 * start as tsx, for the tests that start many processes.
 */
export function compiledMain(): ServiceCommand {
  return { file: process.execPath, args: [path.join(inject('distDir'), 'main.js')] }
}

/** A test's own entry, `test/process/<name>.ts`, under tsx's loader. */
export function testEntry(name: string): ServiceCommand {
  return { file: process.execPath, args: ['--import', 'tsx', `test/process/${name}.ts`] }
}

/**
 * Starts the service with `env` added to this process's environment.
 * Lines on stdout that are not JSON (npm's banner) are kept apart.
 */
export function startService(
  env: Record<string, string>,
  command: ServiceCommand = SOURCE_MAIN,
): ServiceProcess {
  const child = spawnChild(command.file, [...command.args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: command.detached ?? false,
  })
  const events: LogEvent[] = []
  const lines = new Channel<LogEvent>(Number.MAX_SAFE_INTEGER)
  const watchers = new Set<() => void>()
  let ended = false
  let errors = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk))
  const reader = createInterface({ input: child.stdout! })
  reader.on('line', (line) => {
    if (!line.startsWith('{')) return
    const event = JSON.parse(line) as LogEvent
    events.push(event)
    lines.trySend(event)
    for (const watcher of watchers) watcher()
  })
  reader.on('close', () => {
    ended = true
    lines.close()
    for (const watcher of watchers) watcher()
  })
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
    async until(match) {
      for (let seen = 0; ; ) {
        for (; seen < events.length; seen++) {
          if (match(events[seen]!)) return events[seen]!
        }
        if (ended) throw new Error(`service output ended; stderr: ${errors}`)
        await new Promise<void>((resolve) => {
          const watcher = () => {
            watchers.delete(watcher)
            resolve()
          }
          watchers.add(watcher)
        })
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}

/**
 * Starts the service on a free port of 127.0.0.1 with `env`, and waits
 * until it says where it listens. The store is the memory one unless
 * `env` names another (`STORE`, `DATA_DIR` or `DATABASE_URL`).
 */
export async function startListening(
  env: Record<string, string> = {},
  command: ServiceCommand = SOURCE_MAIN,
): Promise<{ service: ServiceProcess; url: string }> {
  const durable = 'STORE' in env || 'DATA_DIR' in env || 'DATABASE_URL' in env
  const store: Record<string, string> = durable ? {} : { STORE: 'memory' }
  const service = startService({ PORT: '0', HOST: '127.0.0.1', ...store, ...env }, command)
  const { url } = await service.waitFor((e) => e.event === 'listening')
  return { service, url: url as string }
}

/** Posts a job; the caller checks the status where it must be 201. */
export async function postJob(
  url: string,
  body: unknown,
): Promise<{ status: number; job: Job }> {
  const res = await fetch(`${url}/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, job: (await res.json()) as Job }
}
