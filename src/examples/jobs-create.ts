/**
 * `POST /jobs` and its answers, good and bad, through `app.request()`:
 * the app runs with no socket, and no worker takes the jobs.
 */
import { createApp } from '../http/app.ts'
import { defaultHandlers } from '../jobs/handlers.ts'
import { RunningJobs } from '../jobs/running.ts'
import { MemoryStore } from '../jobs/store/memory.ts'
import { runIfMain, type Out } from './run.ts'

export async function main(out: Out): Promise<void> {
  const app = createApp({
    store: new MemoryStore(),
    handlers: defaultHandlers(),
    running: new RunningJobs(),
  })
  const post = (body: string, type = 'application/json') =>
    app.request('/jobs', {
      method: 'POST',
      headers: { 'Content-Type': type },
      body,
    })

  const created = await post('{"type":"sleep","payload":{"ms":50}}')
  out(`POST /jobs → ${created.status}`)
  out(`Location: ${created.headers.get('Location')}`)
  out(JSON.stringify(await created.json(), null, 2))

  const bad: [string, string?][] = [
    ['{"type":"sleep",'],
    ['["sleep"]'],
    ['{"payload":{}}'],
    ['{"type":""}'],
    ['{"type":"email"}'],
    ['{"type":"sleep","payload":{"ms":-5}}'],
    ['{"type":"sleep"}', 'text/plain'],
  ]
  for (const [body, type] of bad) {
    const res = await post(body, type)
    out(body)
    out(`  → ${res.status} ${await res.text()}`)
  }
  for (const [method, path] of [
    ['GET', '/jobs/0b7f3f3e-0000-4000-8000-000000000000'],
    ['DELETE', '/jobs'],
    ['GET', '/nothing-here'],
  ] as const) {
    const res = await app.request(path, { method })
    out(`${method} ${path}`)
    out(`  → ${res.status} ${await res.text()}`)
  }
}

runIfMain(import.meta.url, main)
