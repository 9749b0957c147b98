/**
 * Request checks for the routes: content type, JSON syntax, the shape of
 * a new job, the `status` filter. Each failure is a `RequestError` whose
 * message tells the client what to fix.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import {
  JOB_STATUSES,
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
      .max(MAX_TYPE_LENGTH, `type must be at most ${MAX_TYPE_LENGTH} characters`),
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

/** Parses a `POST /jobs` body; throws a `400` saying what is wrong. */
export function parseNewJob(text: string): NewJob {
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
 * Parses the query of `GET /jobs`: `status`, `limit` (1 to
 * `MAX_PAGE_LIMIT`, default `DEFAULT_PAGE_LIMIT`) and `after` (a cursor
 * from a `Link` header). Each may appear once; anything else is a 400.
 */
export function parseListQuery(params: URLSearchParams): ListQueryParams {
  const known = ['status', 'limit', 'after']
  for (const name of new Set(params.keys())) {
    if (!known.includes(name)) {
      throw new RequestError(
        400,
        `unknown query parameter "${name}"; known: ${known.join(', ')}`,
      )
    }
    if (params.getAll(name).length > 1) {
      throw new RequestError(400, `query parameter "${name}" given twice`)
    }
  }
  const status = parseStatusFilter(params.get('status') ?? undefined)
  const limit = parseLimit(params.get('limit') ?? undefined)
  const after = params.get('after') ?? undefined
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
