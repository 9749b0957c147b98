/**
 * What `loadConfig` makes of a few environments: the value it reads, or
 * the message it stops the start with (which `src/main.ts` writes on
 * stderr before exiting with code 2).
 */
import { ConfigError, loadConfig, type Config, type Env } from '../config.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  // #region environments
  const tries: [Env, (config: Config) => unknown][] = [
    [{ WORKER_COUNT: '4' }, (c) => c.workerCount],
    [{ WORKER_COUNT: '' }, (c) => c.workerCount],
    [{ WORKER_COUNT: 'many' }, (c) => c.workerCount],
    [{ SHUTDOWN_TIMEOUT: '1500ms' }, (c) => c.shutdownTimeoutMs],
    [{ SHUTDOWN_TIMEOUT: '2m' }, (c) => c.shutdownTimeoutMs],
    [{ SHUTDOWN_TIMEOUT: '10' }, (c) => c.shutdownTimeoutMs],
    [{ HTTP_REQUEST_TIMEOUT: '5s' }, (c) => c.http.requestTimeoutMs],
    [{ API_TOKEN: 'hunter2' }, (c) => c.http.apiToken],
  ]
  for (const [env, read] of tries) {
    const [name, value] = Object.entries(env)[0] as [string, string]
    try {
      out(`${name}=${value} → ${JSON.stringify(read(loadConfig(env)))}`)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      out(`${name}=${value} → refused:`)
      for (const line of wrap(error.message, 70)) out(`  ${line}`)
    }
  }
  // #endregion environments
}

/** `text` in lines of at most `width` characters, broken at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  return [...lines, line]
}

runIfMain(import.meta.url, main)
