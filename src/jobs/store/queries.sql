-- The statements of the PostgreSQL store, one region each. postgres.ts
-- loads them by region name, and the book shows them from here: the text a
-- reader sees is the text the service runs.

-- #region create
-- Insert is enqueue: once this commits, the job is claimable, and the
-- table's trigger has woken the listening instances.
INSERT INTO jobs
  (type, payload, max_retries, timeout_ms, idempotency_key, request_digest)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING *
-- #endregion create

-- #region find-by-key
SELECT * FROM jobs WHERE idempotency_key = $1
-- #endregion find-by-key

-- #region get
SELECT * FROM jobs WHERE id = $1
-- #endregion get

-- #region list
-- A page in creation order: at most $2 rows, and no more than $3 bytes
-- of payload, though always the first row. `fetched` tells the caller
-- whether the byte bound cut the page short.
SELECT * FROM (
  SELECT *,
    sum(octet_length(payload::text)) OVER (ORDER BY seq) AS upto,
    row_number() OVER (ORDER BY seq) AS n,
    count(*) OVER () AS fetched
  FROM (SELECT * FROM jobs WHERE seq > $1 ORDER BY seq LIMIT $2) rows
) page
WHERE upto <= $3 OR n = 1
ORDER BY seq
-- #endregion list

-- #region list-by-status
SELECT * FROM (
  SELECT *,
    sum(octet_length(payload::text)) OVER (ORDER BY seq) AS upto,
    row_number() OVER (ORDER BY seq) AS n,
    count(*) OVER () AS fetched
  FROM (
    SELECT * FROM jobs WHERE status = $1 AND seq > $2 ORDER BY seq LIMIT $3
  ) rows
) page
WHERE upto <= $4 OR n = 1
ORDER BY seq
-- #endregion list-by-status

-- #region claim
-- $1 owner, $2 how many, $3 lease in ms, $4 only these types (or null),
-- $5 not these types. SKIP LOCKED: a row another claimer is taking is
-- passed over, not waited for, so claimers never queue behind each other.
WITH next AS (
  SELECT id FROM jobs
  WHERE status IN ('pending', 'retrying') AND run_at <= now()
    AND ($4::text[] IS NULL OR type = ANY ($4))
    AND NOT (type = ANY ($5::text[]))
  ORDER BY run_at, seq
  LIMIT $2
  FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET
  status = 'processing',
  attempts = jobs.attempts + 1,
  locked_by = $1,
  lease_expires_at = now() + $3::float8 * interval '1 millisecond',
  cancel_requested = false,
  updated_at = now()
FROM next
WHERE jobs.id = next.id
RETURNING jobs.*
-- #endregion claim

-- #region heartbeat
-- Extends every lease still held; a lease that was lost is not returned.
-- The rows are locked in id order, as `finish-many` locks them, so that
-- the two can never wait for each other in a circle.
WITH held AS (
  SELECT jobs.id FROM jobs
  JOIN unnest($1::uuid[], $2::text[], $3::integer[])
    AS lease (id, owner, attempt) ON jobs.id = lease.id
  WHERE jobs.locked_by = lease.owner AND jobs.attempts = lease.attempt
    AND jobs.status = 'processing'
  ORDER BY jobs.id
  FOR UPDATE OF jobs
)
UPDATE jobs
SET lease_expires_at = now() + $4::float8 * interval '1 millisecond'
FROM held
WHERE jobs.id = held.id
RETURNING jobs.id, jobs.cancel_requested
-- #endregion heartbeat

-- #region finish
-- Fenced: it changes the row only while this attempt still holds it.
-- $4 the new status, $5 the error (or null), $6 delay before the next
-- run in ms (or null), $7 1 if the attempt is given back, else 0.
UPDATE jobs SET
  status = $4,
  last_error = coalesce($5, last_error),
  run_at = coalesce(now() + $6::float8 * interval '1 millisecond', run_at),
  attempts = attempts - $7,
  finished_at = CASE WHEN $4 IN ('completed', 'failed', 'canceled')
                THEN now() END,
  locked_by = NULL,
  lease_expires_at = NULL,
  cancel_requested = false,
  updated_at = now()
WHERE id = $1 AND locked_by = $2 AND attempts = $3
  AND status = 'processing'
RETURNING *
-- #endregion finish

-- #region finish-many
-- `finish` for several attempts in one statement: arrays of the same
-- seven values, one element per attempt. Each is fenced as `finish` is;
-- the rows come back for the attempts that still held their job.
WITH attempt AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::integer[], $4::text[],
    $5::text[], $6::float8[], $7::integer[])
    AS a (id, owner, attempt, status, error, delay_ms, given_back)
), held AS (
  SELECT jobs.id FROM jobs JOIN attempt ON jobs.id = attempt.id
  WHERE jobs.locked_by = attempt.owner AND jobs.attempts = attempt.attempt
    AND jobs.status = 'processing'
  ORDER BY jobs.id
  FOR UPDATE OF jobs
)
UPDATE jobs SET
  status = attempt.status,
  last_error = coalesce(attempt.error, jobs.last_error),
  run_at = coalesce(now() + attempt.delay_ms * interval '1 millisecond',
    jobs.run_at),
  attempts = jobs.attempts - attempt.given_back,
  finished_at = CASE WHEN attempt.status IN ('completed', 'failed',
    'canceled') THEN now() END,
  locked_by = NULL,
  lease_expires_at = NULL,
  cancel_requested = false,
  updated_at = now()
FROM held JOIN attempt ON held.id = attempt.id
WHERE jobs.id = held.id
RETURNING jobs.*
-- #endregion finish-many

-- #region request-cancel
-- A waiting job is canceled now; a running one is flagged for its owner,
-- whose next heartbeat (or the notification) aborts it.
WITH target AS (
  SELECT id, status FROM jobs WHERE id = $1 FOR UPDATE
)
UPDATE jobs SET
  status = CASE WHEN target.status = 'processing' THEN 'processing'
           ELSE 'canceled' END,
  finished_at = CASE WHEN target.status = 'processing' THEN NULL
                ELSE now() END,
  cancel_requested = target.status = 'processing',
  updated_at = now()
FROM target
WHERE jobs.id = target.id
  AND target.status IN ('pending', 'retrying', 'processing')
RETURNING jobs.*, target.status AS previous_status
-- #endregion request-cancel

-- #region notify-cancel
SELECT pg_notify('workstream_cancel', $1)
-- #endregion notify-cancel

-- #region rescue
-- Leases nobody renewed: their owner crashed or hung. Only rows still
-- held and expired move (FOR UPDATE rechecks that on the locked row).
-- $1 backoff base, $2 ceiling, both in ms; $3 true rescues every lease.
WITH expired AS (
  SELECT id, locked_by FROM jobs
  WHERE status = 'processing' AND ($3 OR lease_expires_at < now())
  FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET
  status = CASE WHEN cancel_requested THEN 'canceled'
           WHEN attempts <= max_retries THEN 'retrying'
           ELSE 'failed' END,
  run_at = now() + interval '1 millisecond'
    * least($2::float8, $1::float8 * 2 ^ least(attempts - 1, 52))
    * (0.5 + random() / 2),
  last_error = 'lease expired: ' || expired.locked_by
    || ' stopped renewing it',
  finished_at = CASE WHEN cancel_requested OR attempts > max_retries
                THEN now() END,
  locked_by = NULL,
  lease_expires_at = NULL,
  cancel_requested = false,
  updated_at = now()
FROM expired
WHERE jobs.id = expired.id
RETURNING jobs.id, jobs.type, jobs.attempts, jobs.status,
  expired.locked_by AS owner
-- #endregion rescue

-- #region prune
-- Finished jobs older than $1 ms, or beyond the newest $2; at most 10,000
-- a call, so that one call never holds many locks for long.
DELETE FROM jobs WHERE id IN (
  SELECT id FROM jobs
  WHERE finished_at < now() - $1::float8 * interval '1 millisecond'
     OR id IN (SELECT id FROM jobs WHERE finished_at IS NOT NULL
               ORDER BY finished_at DESC OFFSET $2)
  LIMIT 10000
)
-- #endregion prune

-- #region count-waiting
-- Counts no further than $1: the answer to "is the backlog full?" costs
-- at most that many index entries, however long the backlog is.
SELECT count(*)::integer AS n FROM (
  SELECT 1 FROM jobs WHERE status IN ('pending', 'retrying') LIMIT $1
) AS waiting
-- #endregion count-waiting

-- #region count-by-status
SELECT status, count(*)::integer AS n FROM jobs GROUP BY status
-- #endregion count-by-status
