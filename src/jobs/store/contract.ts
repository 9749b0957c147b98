/**
 * The store contract: what any place that keeps jobs must do, so that the
 * rest of the service never knows which one it talks to. The store is the
 * source of truth and, with a database, the queue itself:
 *
 * - creating a job makes it claimable, in one step (insert is enqueue);
 * - a claim takes the next due jobs for an owner, with a lease, and
 *   counts the attempt;
 * - every later write about that attempt names its lease (job, owner,
 *   attempt) and changes nothing once the lease is lost: a result that
 *   arrives too late is refused, never written over a newer attempt.
 *
 * Two stores keep it: `MemoryStore` (one process, keeps nothing across a
 * restart) and `PostgresStore`. One conformance suite tests both.
 */
import type { Job, JobStatus, NewJob } from '../job.ts'

// #region lease
/**
 * The right to write about one attempt: job `id`, claimed by `owner`, as
 * its attempt number `attempt`. A claim hands one out; a rescue or a
 * later claim makes it stale.
 */
export interface Lease {
  readonly id: string
  readonly owner: string
  readonly attempt: number
}

/** A job just claimed, and the lease its worker writes with. */
export interface ClaimedJob {
  readonly job: Job
  readonly lease: Lease
}
// #endregion lease

// #region outcome
/** How an attempt ended: the one write a worker makes when it is done. */
export type Outcome =
  /** The handler resolved. */
  | { readonly kind: 'completed' }
  /** It failed and may run again once `delayMs` have passed. */
  | {
      readonly kind: 'retry'
      readonly error: string
      readonly delayMs: number
    }
  /** It failed for good. */
  | { readonly kind: 'failed'; readonly error: string }
  /** A client canceled it while it ran. */
  | { readonly kind: 'canceled' }
  /**
   * The service stopped it (a shutdown's deadline), or never started it
   * (claimed, then released at a stop): it is claimable again at once,
   * and this attempt does not count against `max_retries`.
   */
  | { readonly kind: 'interrupted'; readonly reason: string }
// #endregion outcome

/** What `claim` may be told besides how many. */
export interface ClaimOptions {
  /** Only jobs of these types (e.g. one type with room left). */
  readonly types?: readonly string[] | undefined
  /** No jobs of these types (types at their concurrency limit). */
  readonly excludeTypes?: readonly string[] | undefined
}

/** A held lease, as a heartbeat found it. */
export interface HeldLease {
  readonly id: string
  /** A client asked to cancel the job: abort its handler. */
  readonly cancelRequested: boolean
}

/** How `rescue` spaces out the retries of jobs whose worker vanished. */
export interface RescuePolicy {
  /** The backoff's base and ceiling, as for a failed attempt. */
  readonly baseMs: number
  readonly maxMs: number
  /**
   * Rescue every `processing` job, expired or not. Only for a start with
   * a database no other instance can use (the embedded one): whatever is
   * `processing` then was left by a process that is gone.
   */
  readonly all?: boolean | undefined
}

/** One job a rescue moved, and where to. */
export interface Rescued {
  readonly id: string
  readonly type: string
  /** The attempt whose lease expired. */
  readonly attempt: number
  /** The owner that lost it. */
  readonly owner: string
  /** `retrying` (with backoff), `failed` (no attempt left) or `canceled`. */
  readonly status: 'retrying' | 'failed' | 'canceled'
}

/** Which jobs `list` returns, and from where. */
export interface ListQuery {
  readonly status?: JobStatus | undefined
  /** A `next` cursor of an earlier page; the first page without it. */
  readonly after?: string | undefined
  /** At most this many (the caller bounds it). */
  readonly limit: number
  /**
   * And no more payload than this many bytes (as JSON), though always at
   * least one job: a page of large payloads stays small.
   */
  readonly maxBytes?: number | undefined
}

/** One page of jobs in creation order; `next` when there may be more. */
export interface JobPage {
  readonly jobs: readonly Job[]
  readonly next?: string | undefined
}

/** What `create` may be told besides the job. */
export interface CreateOptions {
  /**
   * A client's `Idempotency-Key` and a digest of its request: a second
   * create with the same key returns the first job instead of a new one
   * (or throws `IdempotencyConflictError` if the digest differs).
   */
  readonly idempotency?: { readonly key: string; readonly digest: string }
}

/** What `create` did: a new job, or the one an earlier request made. */
export interface Created {
  readonly job: Job
  readonly created: boolean
}

/** What a cancel request found and did. */
export type CancelRequest =
  /** It was waiting: it is `canceled` now. */
  | { readonly outcome: 'canceled'; readonly job: Job }
  /** It is running: its owner will abort it and record `canceled`. */
  | { readonly outcome: 'requested'; readonly job: Job }
  /** It had already finished: nothing changed. */
  | { readonly outcome: 'finished'; readonly job: Job }
  | { readonly outcome: 'missing' }

/** Which finished jobs `prune` deletes. */
export interface PrunePolicy {
  /** Finished longer ago than this. */
  readonly olderThanMs: number
  /** And beyond this many of the newest finished ones. */
  readonly keep: number
}

// #region contract
/** Where jobs live. Every method is one atomic step of the store. */
export interface JobStore {
  /** Whether a job outlives the process (false for the memory store). */
  readonly durable: boolean
  /** Stores a new `pending` job, claimable at once. */
  create(input: NewJob, options?: CreateOptions): Promise<Created>
  get(id: string): Promise<Job | undefined>
  /** Jobs in creation order, a page at a time. */
  list(query: ListQuery): Promise<JobPage>
  /** Up to `limit` due jobs for `owner`, each `processing` with a lease. */
  claim(
    owner: string,
    limit: number,
    leaseMs: number,
    options?: ClaimOptions,
  ): Promise<ClaimedJob[]>
  // #endregion contract
  // #region contract-attempt
  /** Extends the leases still held; the ones missing were lost. */
  heartbeat(leases: readonly Lease[], leaseMs: number): Promise<HeldLease[]>
  /** Records how an attempt ended; undefined if its lease was lost. */
  finish(lease: Lease, outcome: Outcome): Promise<Job | undefined>
  /** Cancels a waiting job now, or flags a running one for its owner. */
  requestCancel(id: string): Promise<CancelRequest>
  /** Moves jobs whose lease expired: back with backoff, or failed. */
  rescue(policy: RescuePolicy): Promise<Rescued[]>
  /** Deletes finished jobs by age and count; returns how many. */
  prune(policy: PrunePolicy): Promise<number>
  /** How many jobs wait (pending or retrying), counting up to `upTo`. */
  countWaiting(upTo: number): Promise<number>
  /** How many jobs are in each status now. */
  countByStatus(): Promise<Record<JobStatus, number>>
  /** Resolves if the store answers now; rejects if it is unreachable. */
  ping(): Promise<void>
  /** Releases what the store holds (connections); idempotent. */
  close(): Promise<void>
}
// #endregion contract-attempt
