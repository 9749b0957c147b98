/**
 * The limit for `POST /jobs`: a bare `node:http` server that reads the
 * request body and answers 201 with a fixed JSON body (a real job's, given
 * as the first argument) and the same headers the service sends. Prints
 * `{ "port": n }` once it listens; stops on SIGTERM.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const body = process.argv[2] ?? '{}'
const location = `/jobs/${(JSON.parse(body) as { id?: string }).id ?? ''}`

const server = createServer(async (request, response) => {
  for await (const _chunk of request); // read the body, as the service does
  response.writeHead(201, {
    'Content-Type': 'application/json',
    Location: location,
  })
  response.end(body)
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  console.log(JSON.stringify({ port }))
})
process.once('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
})
