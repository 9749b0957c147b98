import { describe, expect, it, vi } from 'vitest'
import { createApp, type AppDeps } from '../../src/http/app.ts'
import { MAX_BODY_BYTES, MAX_PAYLOAD_BYTES } from '../../src/http/validation.ts'
import { HandlerRegistry, sleepJob } from '../../src/jobs/handlers.ts'
import { MAX_PAYLOAD_DEPTH, type Job } from '../../src/jobs/job.ts'
import { Backlog } from '../../src/jobs/backlog.ts'
import { RunningJobs } from '../../src/jobs/running.ts'
import { MemoryStore } from '../../src/jobs/store/memory.ts'
import { JobEvents } from '../../src/jobs/events.ts'
import { createJobMetrics } from '../../src/jobs/metrics.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

function setup(overrides: Partial<AppDeps> = {}) {
  const store = overrides.store ?? new MemoryStore()
  const handlers = new HandlerRegistry()
    .register('sleep', sleepJob)
    .register('noop', { run: async () => {} })
  const running = new RunningJobs()
  const deps: AppDeps = { store, handlers, running, ...overrides }
  return { ...deps, app: createApp(deps) }
}

/** Every job the store holds, in creation order. */
async function allJobs(store: AppDeps['store']): Promise<readonly Job[]> {
  return (await store.list({ limit: 1_000 })).jobs
}

function postJobs(app: ReturnType<typeof setup>['app'], body: string, type = 'application/json') {
  return app.request('/jobs', {
    method: 'POST',
    headers: { 'Content-Type': type },
    body,
  })
}

describe('GET /health', () => {
  it('skeleton-health-ok: GET /health answers 200 {"status":"ok"} as JSON', async () => {
    const { app } = setup()
    const res = await app.request('/health')
    expect(res.status).toBe(200)
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  it('shutdown-ready-503: GET /ready answers 200 while serving and 503 once the stop has begun; /health stays 200', async () => {
    const stopping = new AbortController()
    const { app } = setup({ stopping: stopping.signal })
    const ready = await app.request('/ready')
    expect([ready.status, await ready.json()]).toMatchObject([200, { status: 'ready' }])
    stopping.abort()
    const refused = await app.request('/ready')
    expect([refused.status, await refused.json()]).toEqual([503, { error: 'service stopping' }])
    expect((await app.request('/health')).status).toBe(200)
  })
})

describe('POST /jobs', () => {
  it('creating-job-created: a valid job answers 201 with the pending job and its Location', async () => {
    const { app, store } = setup()
    const res = await postJobs(app, '{"type":"sleep","payload":{"ms":5}}')
    expect(res.status).toBe(201)
    const job = (await res.json()) as Job
    expect(job).toMatchObject({
      type: 'sleep',
      payload: { ms: 5 },
      status: 'pending',
      attempts: 0,
      max_retries: 3,
      last_error: null,
    })
    expect(job.id).toMatch(UUID)
    expect(job.created_at).toMatch(RFC3339_UTC)
    expect(job.updated_at).toBe(job.created_at)
    expect(res.headers.get('Location')).toBe(`/jobs/${job.id}`)
    expect(await store.get(job.id)).toEqual(job)
    // Stored is enqueued: a claim takes it, with nothing else done.
    const [claimed] = await store.claim('worker', 1, 1_000)
    expect(claimed?.job.id).toBe(job.id)
  })

  it('accepts a job with no payload and stores null', async () => {
    const { app } = setup()
    const res = await postJobs(app, '{"type":"noop"}')
    expect(res.status).toBe(201)
    expect(((await res.json()) as Job).payload).toBeNull()
  })

  it('accepts a JSON content type with parameters or a +json suffix', async () => {
    const { app } = setup()
    const a = await postJobs(app, '{"type":"noop"}', 'application/json; charset=utf-8')
    const b = await postJobs(app, '{"type":"noop"}', 'application/vnd.api+json')
    expect([a.status, b.status]).toEqual([201, 201])
  })

  const badBodies: [string, string, RegExp][] = [
    ['malformed JSON', '{"type": "sleep",', /malformed JSON/],
    ['an array body', '[1, 2]', /body must be a JSON object/],
    ['a null body', 'null', /body must be a JSON object/],
    ['a string body', '"sleep"', /body must be a JSON object/],
    ['an empty body', '', /malformed JSON/],
    ['a missing type', '{"payload": {}}', /type is required/],
    ['an empty type', '{"type": ""}', /type must not be empty/],
    ['a number type', '{"type": 7}', /type must be a string/],
    ['an absurdly long type', JSON.stringify({ type: 'x'.repeat(65) }), /at most 64/],
    ['an unknown field', '{"type": "noop", "paylod": {}}', /unknown field: paylod/],
    ['an unknown type', '{"type": "mine"}', /unknown job type "mine"; known types: noop, sleep/],
    ['sleep without payload', '{"type": "sleep"}', /payload\.ms/],
    ['sleep with negative ms', '{"type": "sleep", "payload": {"ms": -1}}', /payload\.ms/],
    ['sleep with fractional ms', '{"type": "sleep", "payload": {"ms": 1.5}}', /payload\.ms/],
    ['sleep with string ms', '{"type": "sleep", "payload": {"ms": "10"}}', /payload\.ms/],
    ['sleep with too many ms', '{"type": "sleep", "payload": {"ms": 60001}}', /payload\.ms/],
    [
      'a payload nested too deep',
      JSON.stringify({ type: 'noop', payload: JSON.parse('['.repeat(MAX_PAYLOAD_DEPTH + 1) + ']'.repeat(MAX_PAYLOAD_DEPTH + 1)) }),
      /nests deeper than 32/,
    ],
  ]
  it.each(badBodies)(
    'creating-bad-input-400: %s answers 400 with a JSON error and stores nothing',
    async (_name, body, message) => {
      const { app, store } = setup()
      const res = await postJobs(app, body)
      expect(res.status).toBe(400)
      const answer = (await res.json()) as { error: string }
      expect(answer.error).toMatch(message)
      expect(Object.keys(answer)).toEqual(['error'])
      expect(await allJobs(store)).toEqual([])
    },
  )

  it('creating-not-json-415: a content type that is not JSON answers 415 and stores nothing', async () => {
    const { app, store } = setup()
    const plain = await postJobs(app, '{"type":"noop"}', 'text/plain')
    const none = await app.request('/jobs', { method: 'POST', body: '{"type":"noop"}' })
    for (const res of [plain, none]) {
      expect(res.status).toBe(415)
      expect(await res.json()).toEqual({ error: 'Content-Type must be application/json' })
    }
    expect(await allJobs(store)).toEqual([])
  })

  it('creating-too-large-413: a body over 1 MiB answers 413 and stores nothing', async () => {
    const { app, store } = setup()
    const big = JSON.stringify({ type: 'noop', payload: 'x'.repeat(MAX_BODY_BYTES) })
    const res = await postJobs(app, big)
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({ error: `body larger than ${MAX_BODY_BYTES} bytes` })
    expect(await allJobs(store)).toEqual([])
  })

  it('creating-too-large-streamed: a streamed body is read no further than the limit', async () => {
    const { app } = setup()
    const chunk = 64 * 1024
    const body = countingStream(chunk, 10 * MAX_BODY_BYTES)
    const res = await app.request(
      new Request('http://localhost/jobs', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: body.stream,
        duplex: 'half',
      } as RequestInit),
    )
    expect(res.status).toBe(413)
    // A stream may pull one chunk ahead of the reader.
    expect(body.bytesPulled()).toBeLessThanOrEqual(MAX_BODY_BYTES + 2 * chunk)
    expect(body.bytesPulled()).toBeLessThan(10 * MAX_BODY_BYTES)
  })

  it('creating-proto-is-data: a payload with __proto__ is stored as data and pollutes nothing', async () => {
    const { app, store } = setup()
    const body = '{"type":"noop","payload":{"__proto__":{"polluted":true},"a":1}}'
    const res = await postJobs(app, body)
    expect(res.status).toBe(201)
    const { id } = (await res.json()) as Job
    const stored = (await store.get(id)) as Job
    const payload = stored.payload as Record<string, unknown>
    expect(Object.hasOwn(payload, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect((payload as { polluted?: unknown }).polluted).toBeUndefined()
    const again = await app.request(`/jobs/${id}`)
    expect(await again.text()).toContain('"payload":{"__proto__":{"polluted":true},"a":1}')
  })

  it('pool-queue-full-429: a full backlog answers 429 with Retry-After and keeps no job', async () => {
    const store = new MemoryStore()
    const backlog = new Backlog({ store, capacity: 1 })
    const { app } = setup({ store, backlog })
    const first = await postJobs(app, '{"type":"noop"}')
    const second = await postJobs(app, '{"type":"noop"}')
    expect(first.status).toBe(201)
    expect(second.status).toBe(429)
    expect(second.headers.get('Retry-After')).toBe('1')
    expect(await second.json()).toEqual({
      error: 'too many jobs waiting (at most 1); retry later',
    })
    const kept = await allJobs(store)
    expect(kept.map((job) => job.id)).toEqual([((await first.json()) as Job).id])
  })

  it('answers 503 and keeps no job once the service is stopping', async () => {
    const stopping = new AbortController()
    const { app, store } = setup({ stopping: stopping.signal })
    stopping.abort()
    const res = await postJobs(app, '{"type":"noop"}')
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({
      error: 'the service is stopping and accepts no new jobs',
    })
    expect(await allJobs(store)).toEqual([])
  })
})

describe('limits on a job', () => {
  it('hostile-payload-cap: a payload over 64 KiB of JSON answers 413 and stores nothing; one of 64 KiB is accepted', async () => {
    const { app, store } = setup()
    // A string's JSON is its characters and two quotes.
    const at = JSON.stringify({ type: 'noop', payload: 'x'.repeat(MAX_PAYLOAD_BYTES - 2) })
    const over = JSON.stringify({ type: 'noop', payload: 'é'.repeat(MAX_PAYLOAD_BYTES / 2) })
    const refused = await postJobs(app, over)
    expect(refused.status).toBe(413)
    expect(await refused.json()).toEqual({
      error: `payload is ${MAX_PAYLOAD_BYTES + 2} bytes as JSON; at most ${MAX_PAYLOAD_BYTES} are accepted`,
    })
    expect(await allJobs(store)).toEqual([])
    expect((await postJobs(app, at)).status).toBe(201)
  })

  it('hostile-type-max-http: a timeout_ms over its type\'s maximum answers 400; a default over it is lowered to it', async () => {
    const handlers = new HandlerRegistry().register('capped', {
      run: async () => {},
      maxTimeoutMs: 1_000,
    })
    const { app, store } = setup({ handlers, defaultTimeoutMs: 120_000 })
    const refused = await postJobs(app, '{"type":"capped","timeout_ms":1001}')
    expect(refused.status).toBe(400)
    expect(await refused.json()).toEqual({ error: 'timeout_ms of a capped job must be at most 1000' })
    expect(await allJobs(store)).toEqual([])
    const job = (await (await postJobs(app, '{"type":"capped"}')).json()) as Job
    expect(job.timeout_ms).toBe(1_000)
  })
})

describe('query parameters', () => {
  function withMetrics() {
    const events = new JobEvents()
    const metrics = createJobMetrics(events)
    return setup({ events, metrics }).app
  }

  it.each([
    ['/jobs?status[]=pending', 'query parameter "status[]" is array-shaped; give one value, as status=<value>'],
    ['/jobs?status[0]=pending', 'query parameter "status[0]" is array-shaped; give one value, as status=<value>'],
    ['/jobs?status=pending&status=failed', 'query parameter "status" is given more than once'],
    ['/jobs?statuses=pending', 'query parameter "statuses" is not known; known: status, limit, after'],
    ['/metrics?format=json&format=prometheus', 'query parameter "format" is given more than once'],
    ['/metrics?fmt=json', 'query parameter "fmt" is not known; known: format'],
    ['/health?probe[]=1', 'query parameter "probe[]" is array-shaped; give one value, as probe=<value>'],
  ])('hostile-query-shape: GET %s answers 400, never every job', async (path, error) => {
    const app = withMetrics()
    const res = await app.request(path)
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error })
  })

  it('takes one value of a known parameter, and ignores none', async () => {
    const app = withMetrics()
    expect((await app.request('/jobs?status=pending')).status).toBe(200)
    expect((await app.request('/metrics?format=json')).status).toBe(200)
    expect((await app.request('/health?probe=1')).status).toBe(200)
  })
})

describe('GET /jobs', () => {
  it('creating-list-empty: GET /jobs answers [] when there are no jobs', async () => {
    const { app } = setup()
    const res = await app.request('/jobs')
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('[]')
  })

  it('creating-list-order: GET /jobs lists jobs in creation order and filters by status', async () => {
    const { app, store } = setup()
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await postJobs(app, '{"type":"noop"}')
      ids.push(((await res.json()) as Job).id)
    }
    await store.claim('worker', 1, 60_000) // the first moves to processing
    const all = (await (await app.request('/jobs')).json()) as Job[]
    expect(all.map((job) => job.id)).toEqual(ids)
    const pending = (await (await app.request('/jobs?status=pending')).json()) as Job[]
    expect(pending.map((job) => job.id)).toEqual([ids[1], ids[2]])
  })

  it('answers 400 listing the statuses for an unknown status filter', async () => {
    const { app } = setup()
    const res = await app.request('/jobs?status=done')
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      error: 'unknown status "done"; known statuses: pending, processing, retrying, completed, failed, canceled',
    })
  })
})

describe('GET /jobs/:id', () => {
  it('answers 200 with the job', async () => {
    const { app } = setup()
    const created = (await (await postJobs(app, '{"type":"noop"}')).json()) as Job
    const res = await app.request(`/jobs/${created.id}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(created)
  })

  it('creating-unknown-id-404: an unknown id answers 404 with a JSON error', async () => {
    const { app } = setup()
    const res = await app.request('/jobs/00000000-0000-4000-8000-000000000000')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({
      error: 'job 00000000-0000-4000-8000-000000000000 not found',
    })
  })
})

describe('routing and errors', () => {
  it('creating-unknown-route-404: an unknown route answers 404 with a JSON error', async () => {
    const { app } = setup()
    const res = await app.request('/nope')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: 'not found: GET /nope' })
  })

  it('creating-wrong-method-405: a wrong method answers 405 with Allow and a JSON error', async () => {
    const { app } = setup()
    const del = await app.request('/jobs', { method: 'DELETE' })
    expect(del.status).toBe(405)
    expect(del.headers.get('Allow')).toBe('GET, HEAD, POST')
    expect(await del.json()).toEqual({ error: 'method DELETE not allowed' })
    const put = await app.request('/health', { method: 'PUT' })
    expect(put.status).toBe(405)
    expect(put.headers.get('Allow')).toBe('GET, HEAD')
  })

  it('creating-no-stack-trace: an unexpected error answers 500 with no detail', async () => {
    const onUnexpectedError = vi.fn()
    const store = new MemoryStore()
    store.list = async () => {
      throw new Error('disk on fire at /secret/path')
    }
    const { app } = setup({ store, onUnexpectedError })
    const res = await app.request('/jobs')
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({ error: 'internal server error' })
    expect(text).not.toMatch(/secret|at |\.ts/)
    expect(onUnexpectedError).toHaveBeenCalledOnce()
  })
})

/** A body stream of `total` bytes in `chunk`-sized pieces, counting what was pulled. */
function countingStream(chunk: number, total: number) {
  let pulled = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close()
      pulled += chunk
      controller.enqueue(new Uint8Array(chunk).fill(0x20))
    },
  })
  return { stream, bytesPulled: () => pulled }
}

describe('POST /jobs with retries and a timeout', () => {
  it('retries-max-retries-settable: max_retries and timeout_ms are stored as given, within their bounds', async () => {
    const { app } = setup()
    const res = await postJobs(app, '{"type":"noop","max_retries":0,"timeout_ms":500}')
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ max_retries: 0, timeout_ms: 500 })
    const defaults = (await (await postJobs(app, '{"type":"noop"}')).json()) as Job
    expect([defaults.max_retries, defaults.timeout_ms]).toEqual([3, 120_000])
  })

  it('takes the default timeout it is given (JOB_TIMEOUT_MS)', async () => {
    const { app } = setup({ defaultTimeoutMs: 2_500 })
    const job = (await (await postJobs(app, '{"type":"noop"}')).json()) as Job
    expect(job.timeout_ms).toBe(2_500)
  })

  it.each([
    ['"max_retries":11', 'max_retries must be an integer from 0 to 10'],
    ['"max_retries":-1', 'max_retries must be an integer from 0 to 10'],
    ['"max_retries":1.5', 'max_retries must be an integer from 0 to 10'],
    ['"max_retries":"3"', 'max_retries must be an integer from 0 to 10'],
    ['"timeout_ms":0', 'timeout_ms must be an integer from 1 to 3600000'],
    ['"timeout_ms":3600001', 'timeout_ms must be an integer from 1 to 3600000'],
  ])('retries-bounds-400: %s answers 400 and stores nothing', async (field, message) => {
    const { app, store } = setup()
    const res = await postJobs(app, `{"type":"noop",${field}}`)
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: message })
    expect(await allJobs(store)).toEqual([])
  })
})

describe('POST /jobs/:id/cancel', () => {
  it('timeouts-cancel-http: 200 with the canceled job when pending, 202 while running, 409 when finished, 404 when unknown', async () => {
    const { app, store } = setup()
    const pending = (await (await postJobs(app, '{"type":"noop"}')).json()) as Job
    const ok = await app.request(`/jobs/${pending.id}/cancel`, { method: 'POST' })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ id: pending.id, status: 'canceled' })

    const again = await app.request(`/jobs/${pending.id}/cancel`, { method: 'POST' })
    expect(again.status).toBe(409)
    expect(await again.json()).toEqual({
      error: `job ${pending.id} cannot be canceled: it is canceled`,
    })

    const unknown = await app.request('/jobs/nope/cancel', { method: 'POST' })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({ error: 'job nope not found' })

    // Running: this instance holds it.
    const running = new RunningJobs()
    const withWorkers = setup({ store, running })
    const { job } = await store.create({ type: 'noop' })
    const [claimed] = await store.claim('worker', 1, 60_000)
    const held = running.hold(claimed!)
    const accepted = await withWorkers.app.request(`/jobs/${job.id}/cancel`, { method: 'POST' })
    expect(accepted.status).toBe(202)
    expect(await accepted.json()).toMatchObject({ id: job.id, status: 'processing' })
    expect(held.signal.aborted).toBe(true)
    running.release(held)
  })

  it('answers 405 to GET on the cancel route', async () => {
    const { app } = setup()
    const res = await app.request('/jobs/x/cancel')
    expect(res.status).toBe(405)
  })
})

describe('GET /metrics', () => {
  function withMetrics() {
    const events = new JobEvents()
    const store = new MemoryStore()
    const metrics = createJobMetrics(events, { countByStatus: () => store.countByStatus() })
    return { ...setup({ events, store, metrics }), metrics }
  }

  it('observability-metrics-json: answers the counters as JSON by default (and to curl\'s Accept: */*)', async () => {
    const { app, metrics } = withMetrics()
    await postJobs(app, '{"type":"noop"}')
    for (const headers of [{}, { Accept: '*/*' }] as Record<string, string>[]) {
      const res = await app.request('/metrics', { headers })
      expect(res.status).toBe(200)
      expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
      expect(await res.json()).toMatchObject({ jobs_created: 1, queue_depth: 1, jobs_completed: 0 })
    }
    metrics.close()
  })

  it.each([
    ['Accept: text/plain', '/metrics', { Accept: 'text/plain' }],
    ['a Prometheus scrape', '/metrics', { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' }],
    ['?format=prometheus', '/metrics?format=prometheus', {}],
  ])('observability-metrics-prometheus: %s gets Prometheus text', async (_name, path, headers) => {
    const { app, metrics } = withMetrics()
    await postJobs(app, '{"type":"noop"}')
    const res = await app.request(path, { headers })
    expect(res.status).toBe(200)
    expect(res.headers.get('Content-Type')).toBe(metrics.contentType)
    const text = await res.text()
    expect(text).toMatch(/^jobs_created_total 1$/m)
    expect(text).toMatch(/^jobs_queued\{status="pending"\} 1$/m)
    metrics.close()
  })

  it('answers 400 to an unknown format, and 404 when the app has no metrics', async () => {
    const { app, metrics } = withMetrics()
    const res = await app.request('/metrics?format=xml')
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: 'unknown format "xml"; known formats: json, prometheus' })
    expect((await setup().app.request('/metrics')).status).toBe(404)
    metrics.close()
  })
})

describe('GET /jobs, a page at a time', () => {
  async function withJobs(n: number) {
    const t = setup()
    const ids: string[] = []
    for (let i = 0; i < n; i++) {
      ids.push(((await (await postJobs(t.app, '{"type":"noop"}')).json()) as Job).id)
    }
    return { ...t, ids }
  }

  it('creating-list-paged: pages follow the Link header, in creation order, until the last', async () => {
    const { app, ids } = await withJobs(5)
    const seen: string[] = []
    let next: string | undefined = '/jobs?limit=2'
    let pages = 0
    while (next !== undefined) {
      const res = await app.request(next)
      expect(res.status).toBe(200)
      seen.push(...((await res.json()) as Job[]).map((job) => job.id))
      next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('Link') ?? '')?.[1]
      pages += 1
    }
    expect(seen).toEqual(ids)
    expect(pages).toBe(3)
  })

  it('creating-list-bounded-bytes: a page of large payloads ends at 1 MiB of them, with a Link to the rest', async () => {
    const store = new MemoryStore()
    const { app } = setup({ store })
    const big = 'x'.repeat(300 * 1024)
    for (let i = 0; i < 5; i++) await store.create({ type: 'noop', payload: big })
    const res = await app.request('/jobs')
    const page = (await res.json()) as Job[]
    expect(page).toHaveLength(3) // 3 × 300 KiB fit in 1 MiB, 4 do not
    expect(res.headers.get('Link')).toMatch(/rel="next"/)
  })

  it('creating-list-default-limit: without a limit, a page holds at most 100 jobs', async () => {
    const { app } = await withJobs(101)
    const res = await app.request('/jobs')
    expect(((await res.json()) as Job[]).length).toBe(100)
    expect(res.headers.get('Link')).toMatch(/rel="next"/)
  })

  it.each([
    ['limit=0', 'limit must be an integer from 1 to 1000'],
    ['limit=1001', 'limit must be an integer from 1 to 1000'],
    ['limit=ten', 'limit must be an integer from 1 to 1000'],
    ['after=xyz', 'after must be a cursor from a Link header'],
    ['status=pending&status=failed', 'query parameter "status" is given more than once'],
    ['status[]=pending', 'query parameter "status[]" is array-shaped; give one value, as status=<value>'],
    ['sort=desc', 'query parameter "sort" is not known; known: status, limit, after'],
  ])('creating-list-bad-query: ?%s answers 400', async (query, message) => {
    const { app } = setup()
    const res = await app.request(`/jobs?${query}`)
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: message })
  })
})

describe('Idempotency-Key', () => {
  const post = (app: ReturnType<typeof setup>['app'], body: string, key?: string) =>
    app.request('/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(key && { 'Idempotency-Key': key }) },
      body,
    })

  it('idempotency-same-job: the same key and body again answer 200 with the same job, and store one', async () => {
    const { app, store } = setup()
    const first = await post(app, '{"type":"noop","payload":{"a":1}}', 'order-17')
    const retry = await post(app, '{ "type": "noop", "payload": {"a": 1} }', 'order-17')
    expect(first.status).toBe(201)
    expect(retry.status).toBe(200)
    const [a, b] = [(await first.json()) as Job, (await retry.json()) as Job]
    expect(b.id).toBe(a.id)
    expect(retry.headers.get('Location')).toBe(`/jobs/${a.id}`)
    expect(await allJobs(store)).toHaveLength(1)
  })

  it('idempotency-conflict-422: the same key with another body answers 422 and stores nothing new', async () => {
    const { app, store } = setup()
    await post(app, '{"type":"noop","payload":1}', 'k')
    const other = await post(app, '{"type":"noop","payload":2}', 'k')
    expect(other.status).toBe(422)
    expect(await other.json()).toEqual({
      error: 'Idempotency-Key "k" was already used with a different request',
    })
    expect(await allJobs(store)).toHaveLength(1)
  })

  it('idempotency-bad-key-400: an empty, too long or non-ASCII key answers 400', async () => {
    const { app, store } = setup()
    for (const key of ['x'.repeat(256), 'caf\u00e9', 'a b']) {
      const res = await app.request('/jobs', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: '{"type":"noop"}',
      })
      expect(res.status).toBe(400)
    }
    expect(await allJobs(store)).toHaveLength(0)
  })
})

describe('the store behind the routes', () => {
  it('durable-nul-400: a payload the database would refuse (\\u0000 in a string) answers 400 and stores nothing', async () => {
    const { app, store } = setup()
    const res = await postJobs(app, '{"type":"noop","payload":{"note":"a\\u0000b"}}')
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: 'payload must not contain \\u0000' })
    expect(await allJobs(store)).toHaveLength(0)
  })

  it('durable-surrogate-400: a payload with half a surrogate pair (\\ud800) answers 400 and stores nothing', async () => {
    const { app, store } = setup()
    const res = await postJobs(app, '{"type":"noop","payload":{"note":"a\\ud800b"}}')
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      error: 'payload must be valid Unicode: half a surrogate pair (\\ud800) is not',
    })
    expect(await allJobs(store)).toHaveLength(0)
  })

  it('durable-store-full-507: a memory store out of budget answers 507 with Retry-After', async () => {
    const store = new MemoryStore({ budgetBytes: 10 })
    const { app } = setup({ store })
    const res = await postJobs(app, '{"type":"noop","payload":"more than ten bytes"}')
    expect(res.status).toBe(507)
    expect(res.headers.get('Retry-After')).toBe('1')
  })

  it('durable-unavailable-503: a store out of reach answers 503, and the answer does not name the database', async () => {
    const store = new MemoryStore()
    const { StoreUnavailableError } = await import('../../src/jobs/errors.ts')
    store.create = async () => {
      throw new StoreUnavailableError('connect ECONNREFUSED 10.0.0.7:5432')
    }
    const { app } = setup({ store })
    const res = await postJobs(app, '{"type":"noop"}')
    expect(res.status).toBe(503)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({ error: 'job store unreachable; retry later' })
    expect(text).not.toMatch(/10\.0\.0\.7|ECONNREFUSED/)
  })

  it('durable-ready-memory: /ready says when the store keeps nothing, and is 503 while the store is unreachable', async () => {
    const store = new MemoryStore()
    const { app } = setup({ store })
    expect(await (await app.request('/ready')).json()).toEqual({
      status: 'ready',
      store: 'memory',
      warning: 'STORE=memory keeps nothing: a restart loses every job',
    })
    store.ping = () => Promise.reject(new Error('down'))
    const down = await app.request('/ready')
    expect(down.status).toBe(503)
    expect(await down.json()).toEqual({ error: 'store unreachable' })
  })
})
