-- The row-driven stages' work queue, one template for search_tasks, scrape_results and
-- campaign_contacts. {table}, {key} (the primary key columns) and {busy} (the stage's working
-- status) are filled in by shared/work.py with psycopg.sql, never from input.

-- name: work-claim-one
-- A webhook's row: claimed if it waits (or its worker's lease ran out), otherwise left alone.
UPDATE {table}
SET status = {busy}, attempts = attempts + 1,
    lease_expires_at = now() + make_interval(secs => %(lease)s)
WHERE ({key}) = ({key_params})
  AND next_attempt_at <= now()
  AND (status = 'pending' OR (status = {busy} AND lease_expires_at < now()))
  AND attempts < %(max_attempts)s
RETURNING *;

-- name: work-claim-next
-- The drain, one row each time a worker is free (a row waiting in a batch would use up its
-- lease unworked): a row still pending after the grace period (its webhook may be lost) or
-- whose worker's lease ran out, oldest first, skipping rows another worker holds.
WITH waiting AS (
  SELECT {key}
  FROM {table}
  WHERE next_attempt_at <= now()
    AND attempts < %(max_attempts)s
    AND ((status = 'pending' AND next_attempt_at <= now() - make_interval(secs => %(grace)s))
         OR (status = {busy} AND lease_expires_at < now()))
  ORDER BY next_attempt_at
  LIMIT 1
  FOR UPDATE SKIP LOCKED
)
UPDATE {table} t
SET status = {busy}, attempts = t.attempts + 1,
    lease_expires_at = now() + make_interval(secs => %(lease)s)
FROM waiting w
WHERE ({t_key}) = ({w_key})
RETURNING t.*;

-- name: work-give-up
-- Rows whose attempts ran out while held by workers that stopped: failed, with the reason.
UPDATE {table}
SET status = 'failed', lease_expires_at = NULL,
    status_reason = 'failed: the worker stopped ' || attempts || ' times without finishing'
WHERE status = {busy} AND lease_expires_at < now() AND attempts >= %(max_attempts)s
RETURNING 1;

-- name: work-finish
-- Only the worker's own claim (its attempt number): a row whose lease ran out and was claimed
-- again belongs to the new claim, and this worker's results are dropped.
UPDATE {table}
SET status = %(status)s, status_reason = %(reason)s, lease_expires_at = NULL
WHERE ({key}) = ({key_params}) AND status = {busy} AND attempts = %(attempts)s
RETURNING *;

-- name: work-renew
-- A worker still busy with its row keeps the lease.
UPDATE {table}
SET lease_expires_at = now() + make_interval(secs => %(lease)s)
WHERE ({key}) = ({key_params}) AND status = {busy} AND attempts = %(attempts)s
RETURNING 1;

-- name: work-retry
-- A failure worth another try: back to pending after a backoff, or failed when out of attempts.
UPDATE {table}
SET status = CASE WHEN attempts >= %(max_attempts)s THEN 'failed' ELSE 'pending' END,
    status_reason = CASE WHEN attempts >= %(max_attempts)s
                         THEN 'failed after ' || attempts || ' attempts: ' || %(reason)s
                         ELSE 'retrying: ' || %(reason)s END,
    next_attempt_at = now() + make_interval(secs => %(delay)s),
    lease_expires_at = NULL
WHERE ({key}) = ({key_params}) AND status = {busy} AND attempts = %(attempts)s
RETURNING status;
