/**
 * Child processes for the rows that need a second process. A child runs
 * compiled JavaScript under `npm run bench` (see `bench/build.ts`) and the
 * TypeScript source through tsx under the tests: whichever this file is.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const compiled = import.meta.url.endsWith('.js')
const extension = compiled ? '.js' : '.ts'

/** The path of `bench/<name>` (no extension), compiled or not. */
export function benchFile(name: string): string {
  return fileURLToPath(new URL(`../${name}${extension}`, import.meta.url))
}

/** The path of `src/<name>` (no extension), compiled or not. */
export function sourceFile(name: string): string {
  return fileURLToPath(new URL(`../../src/${name}${extension}`, import.meta.url))
}

/** Node's arguments to run `file` with `flags` (adding tsx for `.ts`). */
export function nodeArgs(file: string, flags: readonly string[] = []): string[] {
  return file.endsWith('.ts')
    ? [...flags, '--import', 'tsx', file]
    : [...flags, file]
}

/** Options of `runChild` and `startChild`. */
export interface ChildOptions {
  readonly flags?: readonly string[]
  readonly args?: readonly string[]
  readonly env?: Readonly<Record<string, string>>
}

/**
 * Runs `file` to its end and returns the JSON it printed on its last line
 * of standard output. Rejects, with its standard error, if it fails.
 */
export async function runChild<T>(file: string, options: ChildOptions = {}): Promise<T> {
  const child = spawnNode(file, options)
  const lines: string[] = []
  const reader = createInterface({ input: child.stdout! })
  reader.on('line', (line) => lines.push(line))
  const stderr = collect(child)
  const [code] = (await once(child, 'exit')) as [number | null]
  reader.close()
  if (code !== 0) throw new Error(`${file} exited with ${code}: ${stderr()}`)
  return JSON.parse(lines.at(-1) ?? 'null') as T
}

/** A child that keeps running: its first JSON line, and how to stop it. */
export interface RunningChild<T> {
  readonly process: ChildProcess
  /** What the child printed first (e.g. `{ "port": 4123 }`). */
  readonly ready: T
  /** Every later line of standard output. */
  readonly lines: string[]
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts `file` and resolves once it has printed its first JSON line. */
export async function startChild<T>(
  file: string,
  options: ChildOptions = {},
): Promise<RunningChild<T>> {
  const child = spawnNode(file, options)
  const stderr = collect(child)
  const exited = once(child, 'exit') as Promise<[number | null]>
  const reader = createInterface({ input: child.stdout! })
  const lines: string[] = []
  // A library's own log lines may come first: the first JSON line is it.
  const first = new Promise<string>((resolve, reject) => {
    const onLine = (line: string) => {
      if (!line.startsWith('{')) return
      reader.off('line', onLine)
      resolve(line)
    }
    reader.on('line', onLine)
    exited.then(([code]) =>
      reject(new Error(`${file} exited with ${code}: ${stderr()}`)),
    )
  })
  const ready = JSON.parse(await first) as T
  reader.on('line', (line) => lines.push(line))
  return {
    process: child,
    ready,
    lines,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const [code] = await exited
      reader.close()
      return code
    },
  }
}

/** Spawns `node` on `file`, its standard error collected, stdin closed. */
export function spawnNode(file: string, options: ChildOptions = {}): ChildProcess {
  return spawn(process.execPath, [...nodeArgs(file, options.flags), ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  })
}

function collect(child: ChildProcess): () => string {
  let text = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    text = (text + chunk).slice(-4000)
  })
  return () => text
}
