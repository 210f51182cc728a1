-- The outbox of signed webhooks (public.webhook_deliveries), as deliver_events works it.

-- name: events-claim
-- Due deliveries, at most %(per_endpoint)s per endpoint counting those this process already
-- has in flight (%(busy_ids)s, %(busy_counts)s), so one slow or dead endpoint never takes every
-- slot; oldest first across endpoints. Claiming moves next_attempt_at past the lease: if the
-- deliverer dies the row is due again then, with the same id (the webhook-id).
WITH busy AS (
  SELECT * FROM unnest(%(busy_ids)s::uuid[], %(busy_counts)s::integer[]) AS b(endpoint_id, n)
), picked AS (
  SELECT d.id
  FROM webhook_endpoints e
  LEFT JOIN busy b ON b.endpoint_id = e.id
  CROSS JOIN LATERAL (
    SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
    WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= now()
    ORDER BY d.next_attempt_at
    LIMIT greatest(%(per_endpoint)s - coalesce(b.n, 0), 0)
    FOR UPDATE OF d SKIP LOCKED
  ) d
  WHERE e.active
  ORDER BY d.next_attempt_at
  LIMIT %(limit)s
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => %(lease)s)
FROM picked p, webhook_endpoints e, vault.decrypted_secrets s
WHERE d.id = p.id AND e.id = d.endpoint_id AND s.id = e.secret_id
RETURNING d.id, d.endpoint_id, d.organization_id, d.event_type, d.attempts, d.payload::text AS body,
          e.url, s.decrypted_secret AS secret;

-- name: events-delivered
-- Only the attempt that holds the claim settles it (a late answer after the lease changes nothing).
UPDATE webhook_deliveries d
SET status = 'delivered', delivered_at = now(), last_status = r.http_status, last_error = NULL
FROM unnest(%(ids)s::uuid[], %(attempts)s::integer[], %(statuses)s::integer[]) AS r(id, attempts, http_status)
WHERE d.id = r.id AND d.attempts = r.attempts AND d.status = 'pending';

-- name: events-retry
-- The next attempt after its wait, never later than the last chance (created_at plus
-- %(give_up)s seconds); an attempt failing at or after it, or refused for good, fails the
-- delivery with the reason.
UPDATE webhook_deliveries d
SET status = CASE WHEN r.final OR now() >= d.created_at + make_interval(secs => %(give_up)s)
                  THEN 'failed' ELSE 'pending' END,
    next_attempt_at = least(now() + make_interval(secs => r.wait),
                            d.created_at + make_interval(secs => %(give_up)s)),
    last_status = r.http_status, last_error = r.reason
FROM unnest(%(ids)s::uuid[], %(attempts)s::integer[], %(statuses)s::integer[], %(reasons)s::text[],
            %(finals)s::boolean[], %(waits)s::float8[]) AS r(id, attempts, http_status, reason, final, wait)
WHERE d.id = r.id AND d.attempts = r.attempts AND d.status = 'pending'
RETURNING d.id, d.status;
