// Many instances, one queue: several `src/main.ts` processes on one
// PostgreSQL database (the test run's server, a database of this file's
// own), as users run them behind a load balancer. Each test waits for what
// the services log, never for a fixed time.
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Job } from '../../src/jobs/job.ts'
import { PostgresStore } from '../../src/jobs/store/postgres.ts'
import { useTestDatabase } from '../support/database.ts'
import {
  compiledMain,
  postJob,
  startListening,
  type LogEvent,
  type ServiceProcess,
} from './service-process.ts'

const db = useTestDatabase()
let services: ServiceProcess[] = []

beforeEach(async () => {
  await db.truncate()
})

afterEach(async () => {
  for (const service of services) await service.kill()
  services = []
})

/** An instance on the shared database. */
async function instance(env: Record<string, string> = {}) {
  const run = await startListening(
    { DATABASE_URL: db.url, WORKER_COUNT: '4', JOB_QUEUE_CAPACITY: '100000', ...env },
    compiledMain(),
  )
  services.push(run.service)
  const id = run.service.events.find((e) => e.event === 'recovered')?.['instance_id'] as string
  return { ...run, id }
}

const idsOf = (service: ServiceProcess, event: string) =>
  service.events.filter((e) => e.event === event).map((e) => e.job_id as string)

/** The first event, logged or to come, from any of `services`, that matches. */
function fromAny(services: ServiceProcess[], match: (e: LogEvent) => boolean) {
  return Promise.race(services.map((s) => s.until(match)))
}

/** How many jobs the instance `owner` holds now, by the database. */
async function withProcessingOf(owner: string): Promise<number> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM jobs
       WHERE status = 'processing' AND locked_by = $1`,
      [owner],
    )
    return rows[0]?.n ?? 0
  } finally {
    await client.end()
  }
}

/** Opens the shared database from the test, as another instance would. */
async function withStore<T>(read: (store: PostgresStore) => Promise<T>): Promise<T> {
  const store = await PostgresStore.open({ connectionString: db.url })
  try {
    return await read(store)
  } finally {
    await store.close()
  }
}

describe('many instances, one queue', () => {
  it('instances-sigkill-one: three instances share 500 jobs; SIGKILL one mid-work and the others rescue and finish its jobs, each outcome recorded once', async () => {
    const env = {
      JOB_LEASE: '2s',
      RESCUE_INTERVAL: '200ms',
      POLL_INTERVAL: '200ms',
      RETRY_BASE_MS: '10',
      RETRY_MAX_MS: '50',
    }
    const all = await Promise.all([instance(env), instance(env), instance(env)])
    const [a, b, doomed] = all as [typeof all[0], typeof all[0], typeof all[0]]
    // Posted round-robin, ten at a time. A post that fails (its instance
    // was killed, maybe after the insert committed) is sent again to the
    // next instance with the same Idempotency-Key, as a careful client
    // would: without the key, a retry could make a second job.
    const acknowledged: string[] = []
    let next = 0
    const submit = async (i: number) => {
      for (let offset = 0; ; offset++) {
        const target = all[(i + offset) % 3]!
        const answer = await fetch(`${target.url}/jobs`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `job-${i}` },
          body: JSON.stringify({ type: 'sleep', payload: { ms: 50 } }),
        }).catch(() => undefined)
        if (answer === undefined) continue // refused: it was killed
        expect([200, 201]).toContain(answer.status)
        return ((await answer.json()) as Job).id
      }
    }
    const posting = Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < 500) acknowledged.push(await submit(next++))
      }),
    )
    // Kill it mid-work, while jobs still come in: once it has completed
    // some, freeze it (SIGSTOP) and ask the database what it holds; kill
    // it only while it holds a job, else let it go on.
    while (idsOf(doomed.service, 'job_completed').length < 20) {
      await doomed.service.waitFor((e) => e.event === 'job_completed')
    }
    for (;;) {
      doomed.service.child.kill('SIGSTOP')
      const processing = await withProcessingOf(doomed.id)
      if (processing >= 1) break
      doomed.service.child.kill('SIGCONT')
      const started = doomed.service.waitFor((e) => e.event === 'job_started')
      // Once every job is posted, no start may come: fail, do not hang.
      const more = await Promise.race([started.then(() => true), posting.then(() => false)])
      if (!more && (await withProcessingOf(doomed.id)) < 1) {
        throw new Error('every job was posted before the doomed instance held one')
      }
    }
    doomed.service.child.kill('SIGKILL')
    await doomed.service.exited
    await posting
    expect(new Set(acknowledged).size).toBe(500)
    const heldByDoomed = new Set(idsOf(doomed.service, 'job_started'))

    // Wait until the database says every job is completed.
    const survivors = [a.service, b.service]
    const jobs = await withStore(async (store) => {
      const completions = () =>
        survivors.reduce((n, s) => n + idsOf(s, 'job_completed').length, 0)
      while ((await store.countByStatus()).completed < 500) {
        const seen = completions()
        await fromAny(survivors, () => completions() > seen)
      }
      return (await store.list({ limit: 1_000 })).jobs
    })
    expect(jobs.map((job) => job.id).sort()).toEqual([...new Set(acknowledged)].sort())
    expect(jobs.every((job) => job.status === 'completed')).toBe(true)

    // Each outcome recorded once: no job completed in two instances.
    const completedBy = new Map<string, number>()
    for (const service of [a.service, b.service, doomed.service]) {
      for (const id of idsOf(service, 'job_completed')) {
        completedBy.set(id, (completedBy.get(id) ?? 0) + 1)
      }
    }
    expect([...completedBy.values()].every((n) => n === 1)).toBe(true)
    // Its jobs came back through the rescuer, after their lease...
    const rescued = survivors
      .flatMap((s) => s.events)
      .filter((e) => e.event === 'job_rescued' && e.owner === doomed.id)
    expect(rescued.length).toBeGreaterThanOrEqual(1)
    expect(rescued.length).toBeLessThanOrEqual(4) // no more than it held
    // ...and ran again elsewhere: the only re-runs there were.
    const ranAgain = survivors.flatMap((s) => idsOf(s, 'job_started')).filter((id) => heldByDoomed.has(id))
    expect(ranAgain.length).toBeLessThanOrEqual(rescued.length)
    const rescuedIds = new Set(rescued.map((e) => e.job_id))
    expect(ranAgain.every((id) => rescuedIds.has(id))).toBe(true)
  }, 90_000)

  it('instances-cancel-elsewhere: a cancel posted to one instance stops the job where another instance runs it, by notification', async () => {
    // A lease of a minute: no heartbeat for 20 s, so only the notification
    // can carry the cancel within this test's time.
    const env = { JOB_LEASE: '60s', WORKER_COUNT: '1' }
    const [one, two] = await Promise.all([instance(env), instance(env)])
    const { job } = await postJob(one.url, { type: 'sleep', payload: { ms: 60_000 } })
    const started = await fromAny([one.service, two.service], (e) => e.event === 'job_started' && e.job_id === job.id)
    const runner = one.service.events.includes(started) ? one : two
    const other = runner === one ? two : one
    const answer = await fetch(`${other.url}/jobs/${job.id}/cancel`, { method: 'POST' })
    expect(answer.status).toBe(202)
    expect(((await answer.json()) as Job).status).toBe('processing')
    await runner.service.until((e) => e.event === 'job_canceled' && e.job_id === job.id)
    const after = await fetch(`${other.url}/jobs/${job.id}`)
    expect(((await after.json()) as Job).status).toBe('canceled')
    const again = await fetch(`${other.url}/jobs/${job.id}/cancel`, { method: 'POST' })
    expect(again.status).toBe(409)
  }, 30_000)

  it('instances-cancel-heartbeat: with notifications off, the heartbeat carries a cancel from another instance', async () => {
    const env = { JOB_LEASE: '900ms', WORKER_COUNT: '1', WAKEUPS: 'poll', POLL_INTERVAL: '100ms' }
    const [one, two] = await Promise.all([instance(env), instance(env)])
    const { job } = await postJob(one.url, { type: 'sleep', payload: { ms: 60_000 } })
    const started = await fromAny([one.service, two.service], (e) => e.event === 'job_started' && e.job_id === job.id)
    const runner = one.service.events.includes(started) ? one : two
    const other = runner === one ? two : one
    expect((await fetch(`${other.url}/jobs/${job.id}/cancel`, { method: 'POST' })).status).toBe(202)
    await runner.service.until((e) => e.event === 'job_canceled' && e.job_id === job.id)
  }, 30_000)

  it('instances-idempotency: the same Idempotency-Key posted to two instances at once makes one job', async () => {
    const [one, two] = await Promise.all([instance(), instance()])
    const post = (url: string) =>
      fetch(`${url}/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'pay-42' },
        body: JSON.stringify({ type: 'sleep', payload: { ms: 1 } }),
      })
    const answers = await Promise.all([post(one.url), post(two.url), post(one.url), post(two.url)])
    const jobs = (await Promise.all(answers.map((a) => a.json()))) as Job[]
    expect(new Set(jobs.map((j) => j.id)).size).toBe(1)
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 201])
    expect(await withStore(async (store) => (await store.list({ limit: 10 })).jobs.length)).toBe(1)
  }, 30_000)
})

describe('a writer that comes back too late', () => {
  it('instances-paused-writer: an instance paused past its lease loses the job to another; when it resumes, its result is refused', async () => {
    const env = {
      JOB_LEASE: '900ms',
      RESCUE_INTERVAL: '100ms',
      POLL_INTERVAL: '100ms',
      WORKER_COUNT: '1',
      RETRY_BASE_MS: '10',
      RETRY_MAX_MS: '10',
    }
    const [one, two] = await Promise.all([instance(env), instance(env)])
    const { job } = await postJob(one.url, { type: 'sleep', payload: { ms: 1_500 } })
    const started = await fromAny([one.service, two.service], (e) => e.event === 'job_started' && e.job_id === job.id)
    const paused = one.service.events.includes(started) ? one : two
    const other = paused === one ? two : one
    // SIGSTOP: the process is frozen, as in a long GC pause or a VM stall.
    paused.service.child.kill('SIGSTOP')
    const rescued = await other.service.until((e) => e.event === 'job_rescued' && e.job_id === job.id)
    expect(rescued).toMatchObject({ owner: paused.id, attempt: 1, status: 'retrying' })
    await other.service.until((e) => e.event === 'job_completed' && e.job_id === job.id)
    paused.service.child.kill('SIGCONT')
    const refused = await paused.service.until((e) => e.event === 'job_result_discarded')
    expect(refused).toMatchObject({ job_id: job.id, attempt: 1 })
    expect(idsOf(paused.service, 'job_completed')).not.toContain(job.id)
    const stored = await withStore((store) => store.get(job.id))
    expect(stored).toMatchObject({ status: 'completed', attempts: 2 })
  }, 30_000)
})

describe('wake-ups', () => {
  it('instances-notify-wakes: a job inserted anywhere starts at once on an idle instance whose poll is a minute away', async () => {
    const idle = await instance({ POLL_INTERVAL: '60s', WORKER_COUNT: '1' })
    await idle.service.until((e) => e.event === 'listener_connected')
    const { job } = await withStore((store) => store.create({ type: 'sleep', payload: { ms: 1 } }))
    const done = await idle.service.until((e) => e.event === 'job_completed' && e.job_id === job.id)
    expect(done['worker_id']).toBe('worker-1')
  }, 30_000)

  it('instances-listener-reconnects: a LISTEN connection killed by the server comes back, and so do the wake-ups', async () => {
    const idle = await instance({ POLL_INTERVAL: '60s', WORKER_COUNT: '1' })
    await idle.service.until((e) => e.event === 'listener_connected')
    const admin = new pg.Client({ connectionString: db.url })
    await admin.connect()
    try {
      const { rows } = await admin.query<{ killed: boolean }>(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
         WHERE application_name = 'workstream-listener' AND datname = current_database()`,
      )
      expect(rows.map((r) => r.killed)).toEqual([true])
    } finally {
      await admin.end()
    }
    await idle.service.until((e) => e.event === 'listener_lost')
    await idle.service.until((e) => e.event === 'listener_connected')
    const { job } = await withStore((store) => store.create({ type: 'sleep', payload: { ms: 1 } }))
    await idle.service.until((e) => e.event === 'job_completed' && e.job_id === job.id)
  }, 30_000)

  it('instances-poll-only: with WAKEUPS=poll there is no listener, and polling alone starts jobs', async () => {
    const idle = await instance({ WAKEUPS: 'poll', POLL_INTERVAL: '100ms', WORKER_COUNT: '1' })
    const { job } = await withStore((store) => store.create({ type: 'sleep', payload: { ms: 1 } }))
    await idle.service.until((e) => e.event === 'job_completed' && e.job_id === job.id)
    expect(idle.service.events.some((e) => e.event === 'listener_connected')).toBe(false)
  }, 30_000)
})
