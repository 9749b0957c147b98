/**
 * The optional bearer token. With `API_TOKEN` set, every route but the
 * probes (`/health`, `/ready`) needs `Authorization: Bearer <token>`;
 * `GET /metrics` answers to `METRICS_TOKEN` instead when that is set, so
 * a scraper's token cannot create jobs. Checked before the app runs: an
 * unauthenticated request never reaches a route or has its body read.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

/** The tokens; a route with no token set is open. */
export interface Tokens {
  readonly apiToken?: string | undefined
  readonly metricsToken?: string | undefined
}

/** Paths a load balancer probes: never behind a token. */
export const OPEN_PATHS: readonly string[] = ['/health', '/ready']

/** The token `path` needs, or undefined if it is open. */
export function tokenFor(path: string, tokens: Tokens): string | undefined {
  if (OPEN_PATHS.includes(path)) return undefined
  if (path === '/metrics' && tokens.metricsToken !== undefined) {
    return tokens.metricsToken
  }
  return tokens.apiToken
}

// #region same-token
/**
 * Whether `given` is `expected`, in time that does not depend on where
 * they differ. `timingSafeEqual` needs equal lengths (and would throw
 * otherwise), so it compares the SHA-256 digests: 32 bytes each, always.
 */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected))
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}
// #endregion same-token

/** Why a request is refused, or undefined if its token is right. */
export type AuthFailure = 'missing' | 'invalid'

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i

/** Checks an `Authorization` header against the token a route needs. */
export function checkBearer(
  header: string | undefined,
  expected: string,
): AuthFailure | undefined {
  if (header === undefined || header === '') return 'missing'
  const token = BEARER.exec(header)?.[1]
  if (token === undefined) return 'invalid'
  return sameToken(token, expected) ? undefined : 'invalid'
}
