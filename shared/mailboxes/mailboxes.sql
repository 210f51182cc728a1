-- The organization's mailboxes as send_due and sync_mailboxes use them. The URLs hold
-- passwords: they are read from Vault here and never written anywhere else.

-- name: mailbox-smtp-urls
SELECT m.id, s.decrypted_secret AS url
FROM mailboxes m JOIN vault.decrypted_secrets s ON s.id = m.smtp_secret_id
WHERE m.id = ANY(%(ids)s);

-- name: mailbox-send-failed
UPDATE mailboxes
SET smtp_error = %(reason)s, smtp_error_at = now(),
    send_blocked_until = now() + make_interval(secs => %(wait)s)
WHERE id = %(id)s;

-- name: mailbox-needs
-- The claimed rows of organizations that have mailboxes: the mailbox their sequence already
-- uses (its first message's), and the campaign's list of addresses, if it has one.
SELECT f.id, c.organization_id, f.sequence_order,
       CASE WHEN f.flow_type = 'reply' THEN coalesce(f.mailbox_id, first.mailbox_id)
            WHEN f.sequence_order = 0 THEN NULL ELSE first.mailbox_id END AS thread_mailbox_id,
       (SELECT array_agg(lower(a)) FROM jsonb_array_elements_text(c.ai_settings -> 'mailboxes') a) AS allowed
FROM outreach_flows f
JOIN campaigns c ON c.id = f.campaign_id
LEFT JOIN outreach_flows first
  ON first.campaign_id = f.campaign_id AND first.contact_id = f.contact_id AND first.sequence_order = 0
WHERE f.id = ANY(%(ids)s) AND f.flow_type IN ('email', 'reply')  -- a reply leaves from the mailbox it answers for
  AND EXISTS (SELECT 1 FROM mailboxes m WHERE m.organization_id = c.organization_id)
ORDER BY f.scheduled_send_time, f.id;

-- name: mailbox-capacity
-- What each mailbox of these organizations may still send in the rolling 24 hours (the claim
-- being made excluded), and whether it may send now.
SELECT m.id, m.organization_id, m.email,
       private.mailbox_cap(m.daily_cap, m.ramp_start, m.ramp_step, m.created_at) - coalesce(u.n, 0) AS remaining,
       CASE
         WHEN NOT m.active THEN 'paused'
         WHEN m.send_blocked_until > now() THEN 'failing: ' || coalesce(m.smtp_error, 'the last login failed')
       END AS unusable
FROM mailboxes m
LEFT JOIN LATERAL (
  SELECT count(*) AS n FROM outreach_flows f
  WHERE f.mailbox_id = m.id AND f.status IN ('sent', 'sending') AND NOT f.id = ANY(%(ids)s)
    AND (f.status = 'sending' OR f.sent_at > now() - interval '24 hours')
) u ON true
WHERE m.organization_id = ANY(%(organizations)s)
ORDER BY m.id;

-- name: assign-mailboxes
UPDATE outreach_flows f
SET mailbox_id = a.mailbox_id
FROM unnest(%(ids)s::uuid[], %(mailboxes)s::uuid[]) AS a(id, mailbox_id)
WHERE f.id = a.id;

-- name: hold-claimed-for-mailbox
-- Claimed rows no mailbox can take now: back to the queue, no attempt counted.
UPDATE outreach_flows f
SET status = 'scheduled', attempts = greatest(f.attempts - 1, 0), lease_expires_at = NULL,
    scheduled_send_time = now() + make_interval(secs => %(wait)s), status_reason = h.reason
FROM unnest(%(ids)s::uuid[], %(reasons)s::text[]) AS h(id, reason)
WHERE f.id = h.id AND f.status = 'sending';
