-- The jobs table: the record of every job, and the queue itself.
-- #region table
CREATE TABLE jobs (
  -- Creation order, for listing and for paging cursors.
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  type text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending',
    'processing', 'retrying', 'completed', 'failed', 'canceled')),
  attempts integer NOT NULL DEFAULT 0,
  max_retries integer NOT NULL,
  timeout_ms integer NOT NULL,
  last_error text,
  -- When it may be claimed: now for a new job, later for a retry.
  run_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  -- The lease of the running attempt: who holds it, until when.
  locked_by text,
  lease_expires_at timestamptz,
  cancel_requested boolean NOT NULL DEFAULT false,
  idempotency_key text UNIQUE,
  request_digest text
);
-- #endregion table

-- #region indexes
-- Only the claimable rows: the claim reads this index and nothing else.
CREATE INDEX jobs_claimable ON jobs (run_at, seq)
  WHERE status IN ('pending', 'retrying');
-- Running attempts by lease, for the rescuer.
CREATE INDEX jobs_leased ON jobs (lease_expires_at)
  WHERE status = 'processing';
-- Listing by status in creation order; pruning by finish time.
CREATE INDEX jobs_status_seq ON jobs (status, seq);
CREATE INDEX jobs_finished ON jobs (finished_at)
  WHERE finished_at IS NOT NULL;
-- #endregion indexes

-- #region notify
-- A new job wakes every listening instance, in the inserting transaction:
-- the notification is sent when (and only if) the insert commits.
CREATE FUNCTION jobs_notify_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('workstream_jobs', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs
  FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify_insert();
-- #endregion notify
