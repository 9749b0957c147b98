/**
 * Two claimers on two connections, as two instances are, each taking the
 * first three waiting jobs inside a transaction, three ways: with
 * `FOR UPDATE SKIP LOCKED` (the service's claim), with `FOR UPDATE`
 * alone, and with no lock at all. Claimer A takes its rows first and holds
 * its transaction open; then claimer B asks.
 */
import pg from 'pg'
import { exampleDatabase, runIfMain, type Out } from './run.ts'

// #region take
/** Selects the first three waiting jobs, with `lock` after the query. */
async function take(client: pg.Client, lock: string): Promise<string> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT seq::integer AS n FROM jobs WHERE status = 'pending'
     ORDER BY seq LIMIT 3 ${lock}`,
  )
  return rows.length === 0 ? 'nothing' : rows.map((row) => row.n).join(' ')
}
// #endregion take

/** Whether B's query is waiting for a lock A holds, or has answered. */
async function blockedOrDone(
  admin: pg.Client,
  pid: number,
  answered: () => boolean,
): Promise<'waits' | 'answers'> {
  for (;;) {
    if (answered()) return 'answers'
    const { rows } = await admin.query<{ n: number }>(
      'SELECT cardinality(pg_blocking_pids($1)) AS n',
      [pid],
    )
    if ((rows[0]?.n ?? 0) > 0) return 'waits'
  }
}

async function round(url: string, lock: string): Promise<string> {
  const [a, b, admin] = [url, url, url].map(
    (connectionString) => new pg.Client({ connectionString }),
  ) as [pg.Client, pg.Client, pg.Client]
  await Promise.all([a.connect(), b.connect(), admin.connect()])
  try {
    await admin.query('TRUNCATE jobs RESTART IDENTITY')
    await admin.query(
      `INSERT INTO jobs (type, payload, max_retries, timeout_ms)
       SELECT 'noop', 'null', 3, 1000 FROM generate_series(1, 6)`,
    )
    await a.query('BEGIN')
    await b.query('BEGIN')
    const fromA = await take(a, lock)
    // A claims what it locked; its transaction stays open for now.
    await a.query(`UPDATE jobs SET status = 'processing' WHERE seq <= 3`)
    let fromB: string | undefined
    const asking = take(b, lock).then((taken) => (fromB = taken))
    const pid = (b as unknown as { processID: number }).processID
    const first = await blockedOrDone(admin, pid, () => fromB !== undefined)
    await a.query('COMMIT')
    await asking
    await b.query('COMMIT')
    const how = first === 'waits' ? 'waits for A to commit, then gets' : 'gets, at once,'
    return `A gets ${fromA}; B ${how} ${fromB}`
  } finally {
    await Promise.all([a.end(), b.end(), admin.end()])
  }
}

export async function main(out: Out): Promise<void> {
  const database = await exampleDatabase()
  try {
    out(`FOR UPDATE SKIP LOCKED: ${await round(database.url, 'FOR UPDATE SKIP LOCKED')}`)
    out(`FOR UPDATE:             ${await round(database.url, 'FOR UPDATE')}`)
    out(`no lock:                ${await round(database.url, '')}`)
  } finally {
    await database.close()
  }
}

runIfMain(import.meta.url, main)
