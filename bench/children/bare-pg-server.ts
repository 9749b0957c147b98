/**
 * The limit for `POST /jobs` on the durable store: a bare `node:http`
 * server that parses the JSON body and runs the same single `INSERT` the
 * store runs (the same table, its trigger, a named prepared statement,
 * through a `pg` pool of the service's default size), then answers 201
 * with the row as JSON and a `Location`. No validation, no idempotency, no
 * backlog check, no logs: only what cannot be left out.
 *   node bare-pg-server.js '{"url": "...", "poolSize": 10}'
 * Prints `{ "port": n }` once it listens; stops on SIGTERM.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'

const { url, poolSize } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string
  poolSize: number
}
const pool = new pg.Pool({ connectionString: url, max: poolSize })
const insert = {
  name: 'create',
  text:
    'INSERT INTO jobs (type, payload, max_retries, timeout_ms) ' +
    'VALUES ($1, $2, $3, $4) RETURNING *',
}

const server = createServer(async (request, response) => {
  let body = ''
  for await (const chunk of request) body += chunk
  try {
    const input = JSON.parse(body) as { type: string; payload?: unknown }
    const values = [input.type, JSON.stringify(input.payload ?? null), 3, 30_000]
    const { rows } = await pool.query({ ...insert, values })
    const job = rows[0] as { id: string }
    response.writeHead(201, {
      'Content-Type': 'application/json',
      Location: `/jobs/${job.id}`,
    })
    response.end(JSON.stringify(job))
  } catch (error) {
    response.writeHead(500).end(String(error))
  }
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  console.log(JSON.stringify({ port }))
})
process.once('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  void pool.end()
})
