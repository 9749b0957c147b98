/**
 * Request checks for the routes: content type, JSON syntax, the shape of
 * a new job and the size of its payload, the query parameters, the
 * `status` filter. Each failure is a `RequestError` whose message tells
 * the client what to fix.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import {
  depthOf,
  JOB_STATUSES,
  MAX_PAYLOAD_DEPTH,
  MAX_RETRIES_LIMIT,
  MAX_TIMEOUT_MS,
  type JobStatus,
  type NewJob,
} from '../jobs/job.ts'
import { RequestError } from './errors.ts'

/** The longest job `type` accepted. */
export const MAX_TYPE_LENGTH = 64

/** The largest request body accepted, in bytes (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024

/**
 * The largest payload accepted, in bytes of JSON (64 KiB). A job's input
 * belongs in the store for as long as the job is kept; a large document
 * belongs elsewhere, and the payload names where.
 */
export const MAX_PAYLOAD_BYTES = 64 * 1024

/** An integer field from `min` to `max`, one message for any mistake. */
function integerIn(name: string, min: number, max: number) {
  const error = `${name} must be an integer from ${min} to ${max}`
  return z.int({ error }).min(min, error).max(max, error)
}

// #region new-job-schema
const NewJobBody = z.strictObject(
  {
    type: z
      .string({
        error: (issue) =>
          issue.input === undefined
            ? 'type is required'
            : 'type must be a string',
      })
      .min(1, 'type must not be empty')
      .max(
        MAX_TYPE_LENGTH,
        `type must be at most ${MAX_TYPE_LENGTH} characters`,
      ),
    payload: z.unknown().optional(),
    max_retries: integerIn('max_retries', 0, MAX_RETRIES_LIMIT).optional(),
    timeout_ms: integerIn('timeout_ms', 1, MAX_TIMEOUT_MS).optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field: ${issue.keys.join(', ')}`
        : 'body must be a JSON object',
  },
)
// #endregion new-job-schema

/** Whether a `Content-Type` header names JSON (`application/json`, `...+json`). */
export function isJsonContentType(header: string | undefined): boolean {
  const mediaType = header?.split(';')[0]?.trim().toLowerCase() ?? ''
  return (
    mediaType === 'application/json' ||
    (mediaType.startsWith('application/') && mediaType.endsWith('+json'))
  )
}

/** Throws a `415` unless the request says its body is JSON. */
export function requireJsonContentType(header: string | undefined): void {
  if (!isJsonContentType(header)) {
    throw new RequestError(415, 'Content-Type must be application/json')
  }
}

/**
 * Parses a `POST /jobs` body; throws a `400` saying what is wrong, or a
 * `413` for a payload over `maxPayloadBytes`.
 */
export function parseNewJob(
  text: string,
  maxPayloadBytes = MAX_PAYLOAD_BYTES,
): NewJob {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new RequestError(400, 'malformed JSON')
  }
  const result = NewJobBody.safeParse(body)
  if (!result.success) {
    const messages = result.error.issues.map((issue) => issue.message)
    throw new RequestError(400, messages.join('; '))
  }
  checkPayloadSize(result.data.payload, maxPayloadBytes)
  return result.data
}

/** How many jobs a page of `GET /jobs` holds unless `limit` says. */
export const DEFAULT_PAGE_LIMIT = 100

/** The most jobs one page of `GET /jobs` may hold. */
export const MAX_PAGE_LIMIT = 1_000

/** What `GET /jobs` asked for. */
export interface ListQueryParams {
  readonly status?: JobStatus | undefined
  readonly after?: string | undefined
  readonly limit: number
}

// #region list-query
/**
 * Parses the query of `GET /jobs` (the URL `url`): `status`, `limit` (1
 * to `MAX_PAGE_LIMIT`, default `DEFAULT_PAGE_LIMIT`) and `after` (a
 * cursor from a `Link` header). Each may appear once; anything else is a
 * 400 (see `queryParams`).
 */
export function parseListQuery(url: string): ListQueryParams {
  const params = queryParams(url, ['status', 'limit', 'after'])
  const status = parseStatusFilter(params['status'])
  const limit = parseLimit(params['limit'])
  const after = params['after']
  if (after !== undefined && !/^\d{1,18}$/.test(after)) {
    throw new RequestError(400, 'after must be a cursor from a Link header')
  }
  return { status, limit, after }
}
// #endregion list-query

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PAGE_LIMIT
  const limit = /^\d{1,7}$/.test(value) ? Number(value) : Number.NaN
  if (!(limit >= 1 && limit <= MAX_PAGE_LIMIT)) {
    throw new RequestError(
      400,
      `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`,
    )
  }
  return limit
}

// #region payload-size
/** Throws a `413` if `payload`, as JSON, is over `maxBytes`. */
function checkPayloadSize(payload: unknown, maxBytes: number): void {
  // Too deep to serialise safely; the store refuses it with a 400.
  if (depthOf(payload) > MAX_PAYLOAD_DEPTH) return
  const bytes = Buffer.byteLength(JSON.stringify(payload ?? null))
  if (bytes > maxBytes) {
    throw new RequestError(
      413,
      `payload is ${bytes} bytes as JSON; at most ${maxBytes} are accepted`,
    )
  }
}
// #endregion payload-size

// #region query
/**
 * The query parameters of `url`, one value each. A parameter given twice
 * or in array form (`status[]=x`) is a `400`, and so is one not in
 * `known`, when given: each would otherwise be dropped without a word.
 */
export function queryParams(
  url: string,
  known?: readonly string[],
): Record<string, string> {
  const params: Record<string, string> = Object.create(null)
  // Most requests have no query: no URL to parse for them.
  if (!url.includes('?')) return params
  for (const [name, value] of new URL(url).searchParams) {
    const plain = name.replace(/\[.*$/, '')
    const problem =
      plain !== name
        ? `is array-shaped; give one value, as ${plain}=<value>`
        : name in params
          ? 'is given more than once'
          : known !== undefined && !known.includes(name)
            ? `is not known; known: ${known.join(', ') || 'none'}`
            : undefined
    if (problem !== undefined) {
      throw new RequestError(400, `query parameter "${name}" ${problem}`)
    }
    params[name] = value
  }
  return params
}
// #endregion query

/** Parses the `status` query of `GET /jobs`; undefined means all. */
export function parseStatusFilter(value: string | undefined): JobStatus | undefined {
  if (value === undefined) return undefined
  const status = JOB_STATUSES.find((s) => s === value)
  if (status === undefined) {
    throw new RequestError(
      400,
      `unknown status "${value}"; known statuses: ${JOB_STATUSES.join(', ')}`,
    )
  }
  return status
}

/** The longest `Idempotency-Key` accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255

/**
 * Parses an `Idempotency-Key` header: undefined when absent, else 1 to
 * 255 printable ASCII characters (a UUID, say), or a 400.
 */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (!/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw new RequestError(
      400,
      `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} ` +
        'printable ASCII characters',
    )
  }
  return value
}

/**
 * A digest of what a request asks for, to tell a retry (same digest)
 * from another request that reuses a key. Made from the parsed job, so a
 * retry that spaces its JSON differently is still the same request.
 */
// #region request-digest
export function requestDigest(input: NewJob): string {
  const { type, payload = null, max_retries, timeout_ms } = input
  const canonical = JSON.stringify([type, payload, max_retries, timeout_ms])
  return createHash('sha256').update(canonical).digest('base64url')
}
// #endregion request-digest
