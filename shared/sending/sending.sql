-- send_due: claiming due messages, the check just before each send, and recording outcomes.
-- Every statement after the claim requires status = 'sending', and those before the send also
-- the caller's claim (its attempt number), so a row the reaper has settled, or another
-- instance has claimed since, is never changed by this one.

-- name: reap-expired-leases
-- A sender that died: a row it never started sending (no Message-ID stored) is requeued;
-- one whose send had begun has an unknown outcome and fails rather than risk a second copy.
UPDATE outreach_flows
SET status = CASE WHEN message_id IS NULL AND attempts < %(max_attempts)s THEN 'scheduled' ELSE 'failed' END,
    status_reason = CASE
      WHEN message_id IS NULL AND attempts < %(max_attempts)s THEN 'requeued: the sender stopped before sending'
      WHEN message_id IS NULL THEN 'failed: the sender stopped before sending, too many times'
      ELSE 'outcome unknown: the sender stopped while sending; not sent again'
    END,
    lease_expires_at = NULL
WHERE status = 'sending' AND lease_expires_at < now()
RETURNING id, status;

-- name: cancel-unsendable-due
-- Due messages that must never go: the contact said no, the campaign is completed, or an
-- earlier step of the sequence failed or was canceled.
WITH doomed AS (
  SELECT f.id,
         CASE
           WHEN c.status = 'completed' THEN 'canceled: the campaign is completed'
           WHEN public.suppression_reason(f.contact_id, f.campaign_id, f.flow_type) IS NOT NULL
             THEN 'canceled: ' || public.suppression_reason(f.contact_id, f.campaign_id, f.flow_type)
           WHEN f.flow_type = 'form_submission' AND EXISTS (
             SELECT 1 FROM outreach_flows o
             WHERE o.contact_id = f.contact_id AND o.flow_type = 'form_submission' AND o.id <> f.id
               AND o.status = 'sent' AND o.sent_at > now() - interval '90 days')
             THEN 'canceled: the site received a form message from the organization in the last 90 days'
           -- A reply answers the prospect: the sequence before it was canceled by their reply.
           WHEN f.flow_type <> 'reply' AND EXISTS (
             SELECT 1 FROM outreach_flows p
             WHERE p.campaign_id = f.campaign_id AND p.contact_id = f.contact_id
               AND p.sequence_order < f.sequence_order AND p.status IN ('failed', 'canceled'))
             THEN 'canceled: an earlier step of the sequence was not sent'
         END AS reason
  FROM outreach_flows f
  JOIN campaigns c ON c.id = f.campaign_id
  WHERE f.status = 'scheduled' AND f.scheduled_send_time <= now() AND c.status <> 'paused'
  ORDER BY f.scheduled_send_time
  LIMIT %(scan)s
  FOR UPDATE OF f SKIP LOCKED
)
UPDATE outreach_flows f
SET status = 'canceled', status_reason = d.reason, lease_expires_at = NULL
FROM doomed d
WHERE f.id = d.id AND d.reason IS NOT NULL
RETURNING f.id;

-- name: lock-claims
-- Claims are serialized (a transaction-scoped advisory lock, held for milliseconds) so the
-- daily caps and domain spacing count every instance's claims exactly.
SELECT pg_advisory_xact_lock(7046311227);

-- name: claim-due-flows
-- Up to %(limit)s due messages of active campaigns, to contacts who may receive them, whose
-- earlier steps were all sent, within the campaign's and the organization's rolling 24-hour
-- caps and the per-domain spacing: marked 'sending' with a lease. Rows over a cap or held by
-- the spacing are pushed back (deferred), so they do not hold the head of the queue.
WITH locked AS (
  SELECT f.id, f.campaign_id, f.contact_id, f.scheduled_send_time, c.organization_id,
         coalesce(lower(split_part(ct.email, '@', 2)), ct.form_site) AS domain, f.flow_type,
         private.campaign_daily_cap(c.ai_settings) AS campaign_cap,  -- NULL: unreadable
         o.daily_send_cap AS org_cap
  FROM outreach_flows f
  JOIN campaigns c ON c.id = f.campaign_id
  JOIN organizations o ON o.id = c.organization_id
  JOIN contacts ct ON ct.id = f.contact_id
  WHERE f.status = 'scheduled'
    AND f.scheduled_send_time <= now()
    AND c.status = 'active'
    -- OFFSET 0 keeps this a per-row probe of the step index. Without it the planner may turn it
    -- into an anti-join that reads every unsent row of the table: it takes the due rows for the
    -- whole 'scheduled' share of the table, since most rows are long sent and their send times
    -- are in the past too (118 ms instead of 12 at 1,000,000 rows).
    AND (f.flow_type = 'reply' OR NOT EXISTS (
      SELECT 1 FROM outreach_flows p
      WHERE p.campaign_id = f.campaign_id AND p.contact_id = f.contact_id
        AND p.sequence_order < f.sequence_order AND p.status <> 'sent'
      OFFSET 0))
  ORDER BY f.scheduled_send_time, f.id
  LIMIT %(scan)s
  FOR UPDATE OF f SKIP LOCKED
),
-- Suppression is checked on the locked rows only, not on every due row the scan passes
-- (about 8 us a row). The cancel sweep, run just before, has already cleared suppressed rows
-- from the head of the queue; any left are skipped here and canceled by the next sweep.
eligible AS (
  SELECT * FROM locked l
  WHERE public.suppression_reason(l.contact_id, l.campaign_id, l.flow_type) IS NULL
    -- A site gets one form message from the organization in 90 days, one at a time.
    AND NOT (l.flow_type = 'form_submission' AND EXISTS (
      SELECT 1 FROM outreach_flows o
      WHERE o.contact_id = l.contact_id AND o.flow_type = 'form_submission' AND o.id <> l.id
        AND (o.status = 'sending' OR (o.status = 'sent' AND o.sent_at > now() - interval '90 days'))))
),
-- MATERIALIZED: computed once. Inlined, the planner (which often expects `locked` to hold a
-- row or two) may recount them for every locked row, which took 300 ms for 2,000 rows.
used_by_campaign AS MATERIALIZED (
  SELECT f.campaign_id, count(*) AS n
  FROM outreach_flows f
  WHERE f.campaign_id IN (SELECT campaign_id FROM eligible)
    AND ((f.status = 'sent' AND f.sent_at > now() - interval '24 hours') OR f.status = 'sending')
  GROUP BY f.campaign_id
),
used_by_org AS MATERIALIZED (
  SELECT c.organization_id, count(*) AS n
  FROM outreach_flows f
  JOIN campaigns c ON c.id = f.campaign_id
  WHERE c.organization_id IN (SELECT organization_id FROM eligible)
    AND ((f.status = 'sent' AND f.sent_at > now() - interval '24 hours') OR f.status = 'sending')
  GROUP BY c.organization_id
),
ranked AS (
  SELECT l.*,
         row_number() OVER (PARTITION BY l.campaign_id ORDER BY l.scheduled_send_time, l.id) AS campaign_rank,
         row_number() OVER (PARTITION BY l.organization_id ORDER BY l.scheduled_send_time, l.id) AS org_rank,
         row_number() OVER (PARTITION BY l.domain ORDER BY l.scheduled_send_time, l.id) AS domain_rank,
         row_number() OVER (PARTITION BY l.contact_id, l.flow_type ORDER BY l.scheduled_send_time, l.id) AS contact_rank,
         coalesce(uc.n, 0) AS campaign_used,
         coalesce(uo.n, 0) AS org_used,
         s.next_allowed_at
  FROM eligible l
  LEFT JOIN used_by_campaign uc ON uc.campaign_id = l.campaign_id
  LEFT JOIN used_by_org uo ON uo.organization_id = l.organization_id
  LEFT JOIN send_spacing s ON s.domain = l.domain
),
decided AS (
  SELECT r.id, r.domain,
         CASE
           WHEN r.campaign_cap IS NULL THEN 'deferred: the campaign''s ai_settings.daily_cap is not a whole number from 1 to 10000'
           WHEN r.campaign_used + r.campaign_rank > r.campaign_cap THEN 'deferred: the campaign''s daily cap is reached'
           WHEN r.org_used + r.org_rank > r.org_cap THEN 'deferred: the organization''s daily cap is reached'
           WHEN r.flow_type = 'form_submission' AND r.contact_rank > 1 THEN 'deferred: one form message at a time to a site'
           WHEN %(spacing)s > 0 AND (r.domain_rank > 1 OR r.next_allowed_at > now())
             THEN 'deferred: spacing the messages to one recipient domain'
         END AS held,
         -- Held rows leave the head of the queue: capped ones for a while, spaced ones each
         -- to its own turn, so one busy domain never crowds out everyone else's mail.
         CASE
           WHEN r.campaign_cap IS NULL OR r.campaign_used + r.campaign_rank > r.campaign_cap OR r.org_used + r.org_rank > r.org_cap
                OR (r.flow_type = 'form_submission' AND r.contact_rank > 1)
             THEN %(cap_retry)s::float8
           ELSE greatest(extract(epoch FROM coalesce(r.next_allowed_at, now()) - now()), 0)
                + %(spacing)s::float8 * (r.domain_rank - 1)
         END AS wait,
         r.scheduled_send_time
  FROM ranked r
),
chosen AS (
  SELECT id, domain FROM decided WHERE held IS NULL ORDER BY scheduled_send_time, id LIMIT %(limit)s
),
spaced AS (
  INSERT INTO send_spacing (domain, next_allowed_at)
  SELECT DISTINCT domain, now() + make_interval(secs => %(spacing)s) FROM chosen WHERE %(spacing)s > 0
  ON CONFLICT (domain) DO UPDATE SET next_allowed_at = EXCLUDED.next_allowed_at
),
deferred AS (
  UPDATE outreach_flows f
  SET scheduled_send_time = now() + make_interval(secs => d.wait), status_reason = d.held
  FROM decided d
  WHERE f.id = d.id AND d.held LIKE 'deferred:%%'
  RETURNING f.id
),
claimed AS (
  UPDATE outreach_flows f
  SET status = 'sending', attempts = f.attempts + 1, message_id = NULL, status_reason = NULL,
      lease_expires_at = now() + make_interval(secs => %(lease)s)
  FROM chosen
  WHERE f.id = chosen.id
  RETURNING f.id
)
SELECT array(SELECT id FROM claimed) AS claimed, (SELECT count(*) FROM deferred) AS deferred;

-- name: load-send-context
-- Everything the message needs, for the claimed rows, oldest due first.
SELECT f.id, f.campaign_id, f.contact_id, f.sequence_order, f.subject, f.body, f.attempts,
       ct.email, ct.name AS contact_name, ct.language_preference, ct.phone, ct.timezone AS contact_timezone,
       ct.extra_data ->> 'source_url' AS source_url, ct.created_at AS found_at,
       c.campaign_name, c.ai_settings, c.default_language, o.org_name, o.id AS organization_id,
       first.message_id AS thread_message_id, first.subject AS thread_subject,
       f.mailbox_id, m.email AS mailbox_email, m.display_name AS mailbox_name,
       f.flow_type, ct.form_site, cf.page_url AS form_page_url, cf.action AS form_action, cf.roles AS form_roles,
       f.in_reply_to, f.reply_references
FROM outreach_flows f
JOIN contacts ct ON ct.id = f.contact_id
JOIN campaigns c ON c.id = f.campaign_id
JOIN organizations o ON o.id = c.organization_id
LEFT JOIN mailboxes m ON m.id = f.mailbox_id
LEFT JOIN contact_forms cf ON cf.id = ct.contact_form_id
LEFT JOIN outreach_flows first
  ON first.campaign_id = f.campaign_id AND first.contact_id = f.contact_id AND first.sequence_order = 0
WHERE f.id = ANY(%(ids)s)
ORDER BY f.scheduled_send_time, f.id;

-- name: begin-send
-- The check just before the send: still our claim, campaign and mailbox active (a circuit
-- breaker may have paused either since the claim), contact not suppressed.
-- Stores the Message-ID first, so a crash after this point is "outcome unknown".
-- "Our claim" is the attempt number the claim gave the row: a row whose lease ran out, was
-- requeued by the reaper and claimed by another instance carries a higher one, so the slow
-- first claimer cannot send it too. (Neither can it once the reaper settled the row: then it
-- is no longer 'sending'. The row lock orders begin-send and the reaper either way.)
-- It also records the same thread's previous accepted message (sent_id, may be null), which
-- saves a statement per message; mark-sent records the last one.
WITH previous AS (
  UPDATE outreach_flows
  SET status = 'sent', sent_at = %(sent_at)s, lease_expires_at = NULL, status_reason = NULL
  WHERE id = %(sent_id)s AND status = 'sending' AND message_id = %(sent_message_id)s
  RETURNING id
)
UPDATE outreach_flows f
SET message_id = %(message_id)s, lease_expires_at = now() + make_interval(secs => %(lease)s)
FROM campaigns c
WHERE f.id = %(id)s AND f.status = 'sending' AND f.attempts = %(attempts)s
  AND c.id = f.campaign_id AND c.status = 'active'
  AND (f.mailbox_id IS NULL OR EXISTS (SELECT 1 FROM mailboxes m WHERE m.id = f.mailbox_id AND m.active))
  AND public.suppression_reason(f.contact_id, f.campaign_id, f.flow_type) IS NULL
RETURNING f.id;

-- name: cancel-claimed
UPDATE outreach_flows f
SET status = 'canceled', lease_expires_at = NULL,
    status_reason = 'canceled: ' || coalesce(public.suppression_reason(f.contact_id, f.campaign_id, f.flow_type),
                                             'the campaign is completed')
WHERE f.id = %(id)s AND f.status = 'sending' AND f.attempts = %(attempts)s
  AND (public.suppression_reason(f.contact_id, f.campaign_id, f.flow_type) IS NOT NULL
       OR (SELECT c.status FROM campaigns c WHERE c.id = f.campaign_id) = 'completed')
RETURNING f.id;

-- name: release-claimed
-- Back to the queue without an attempt counted: paused campaign, outside the window. Only
-- the caller's own claim (its attempt number), never another instance's.
UPDATE outreach_flows
SET status = 'scheduled', scheduled_send_time = %(when)s, status_reason = %(reason)s,
    attempts = greatest(attempts - 1, 0), message_id = NULL, lease_expires_at = NULL
WHERE id = %(id)s AND status = 'sending' AND attempts = %(attempts)s
RETURNING id;

-- name: mark-sent
UPDATE outreach_flows
SET status = 'sent', sent_at = %(sent_at)s, lease_expires_at = NULL, status_reason = NULL
WHERE id = %(id)s AND status = 'sending' AND message_id = %(message_id)s
RETURNING id;

-- name: mark-retry
UPDATE outreach_flows
SET status = 'scheduled', scheduled_send_time = now() + make_interval(secs => %(delay)s),
    status_reason = %(reason)s, message_id = NULL, lease_expires_at = NULL
WHERE id = %(id)s AND status = 'sending' AND attempts = %(attempts)s
RETURNING id;

-- name: mark-failed
-- refused_by_policy: the receiving server refused the sender (5.7.x), which counts toward the
-- mailbox's circuit breaker (migration …1300).
UPDATE outreach_flows
SET status = 'failed', status_reason = %(reason)s, lease_expires_at = NULL, refused_by_policy = %(policy)s
WHERE id = %(id)s AND status = 'sending' AND attempts = %(attempts)s
RETURNING id;

-- name: mark-contact-bounced
UPDATE contacts
SET reached_status = 'bounced', unsubscribe_reason = coalesce(unsubscribe_reason, %(reason)s)
WHERE id = (SELECT contact_id FROM outreach_flows WHERE id = %(id)s)
  AND reached_status NOT IN ('unsubscribed', 'complained')
RETURNING id;

-- name: cancel-contact-flows
-- Every message still waiting for a contact, in every campaign of the organization (or one).
UPDATE outreach_flows
SET status = 'canceled', status_reason = %(reason)s, lease_expires_at = NULL
WHERE contact_id = %(contact_id)s
  AND status IN ('draft', 'scheduled')
  AND (%(campaign_id)s::uuid IS NULL OR campaign_id = %(campaign_id)s::uuid)
RETURNING id;

-- name: mark-form-outcome
-- A form submission's end, with what the site's answer showed.
UPDATE outreach_flows
SET status = %(status)s, sent_at = CASE WHEN %(status)s = 'sent' THEN now() END,
    status_reason = %(reason)s, submission = %(evidence)s, lease_expires_at = NULL
WHERE id = %(id)s AND status = 'sending' AND message_id = %(message_id)s
RETURNING id;
