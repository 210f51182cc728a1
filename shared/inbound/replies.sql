-- sync_mailboxes: which mailbox to read next, what a message read from it answers, and what
-- it changes. Every lookup is scoped to the mailbox's organization, so a Message-ID named in
-- one organization's mail never touches another organization's contacts.

-- name: claim-mailbox-sync
-- The next mailbox to read in this run: active, with an IMAP side, not leased by another
-- instance, and not read (or failed) since the run began.
UPDATE mailboxes m
SET sync_lease_expires_at = now() + make_interval(secs => %(lease)s)
FROM vault.decrypted_secrets s
WHERE m.id = (
    SELECT id FROM mailboxes
    WHERE active AND imap_secret_id IS NOT NULL
      AND (sync_lease_expires_at IS NULL OR sync_lease_expires_at < now())
      AND (last_synced_at IS NULL OR last_synced_at < %(started)s)
      AND (imap_error_at IS NULL OR imap_error_at < %(started)s)
    ORDER BY last_synced_at NULLS FIRST, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED)
  AND s.id = m.imap_secret_id
RETURNING m.id, m.organization_id, m.email, m.imap_uidvalidity, m.imap_last_uid, s.decrypted_secret AS url;

-- name: advance-mailbox-cursor
UPDATE mailboxes
SET imap_uidvalidity = %(uidvalidity)s, imap_last_uid = %(last_uid)s,
    sync_lease_expires_at = now() + make_interval(secs => %(lease)s)
WHERE id = %(id)s;

-- name: mailbox-synced
UPDATE mailboxes
SET last_synced_at = now(), imap_error = NULL, imap_error_at = NULL, sync_lease_expires_at = NULL
WHERE id = %(id)s;

-- name: mailbox-sync-failed
UPDATE mailboxes
SET imap_error = %(reason)s, imap_error_at = now(), sync_lease_expires_at = NULL
WHERE id = %(id)s;

-- name: find-answered-flow
-- The message of this organization that an inbound message names (In-Reply-To, References,
-- or the original a delivery report quotes), newest first.
SELECT f.id AS flow_id, f.contact_id, f.campaign_id
FROM outreach_flows f
WHERE f.message_id = ANY(%(references)s) AND f.organization_id = %(organization_id)s
ORDER BY f.sent_at DESC NULLS LAST
LIMIT 1;

-- name: find-flows-to-address
-- The messages this mailbox sent to an address, with the subject their thread began with.
SELECT f.id AS flow_id, f.contact_id, f.campaign_id, first.subject AS thread_subject
FROM contacts ct
JOIN outreach_flows f ON f.contact_id = ct.id
LEFT JOIN outreach_flows first
  ON first.campaign_id = f.campaign_id AND first.contact_id = f.contact_id AND first.sequence_order = 0
WHERE ct.organization_id = %(organization_id)s AND lower(ct.email) = lower(%(address)s)
  AND f.mailbox_id = %(mailbox_id)s AND f.status = 'sent'
ORDER BY f.sent_at DESC
LIMIT 20;

-- name: remember-inbound-message
-- Returns a row the first time a message is handled, none when it was handled before.
INSERT INTO inbound_messages (organization_id, mailbox_id, contact_id, campaign_id, flow_id, kind, from_address,
                              subject, sent_at, snippet, return_date, bounced_address, fingerprint)
VALUES (%(organization_id)s, %(mailbox_id)s, %(contact_id)s, %(campaign_id)s, %(flow_id)s, %(kind)s, %(sender)s,
        %(subject)s, %(sent_at)s, %(snippet)s, %(return_date)s, %(bounced)s, %(fingerprint)s)
ON CONFLICT (mailbox_id, fingerprint) DO NOTHING
RETURNING id;

-- name: postpone-contact-flows
-- An automatic reply that says when its author is back: in each campaign, the contact's next
-- waiting message moves to the start of that day in the campaign's time zone, and the rest of
-- the sequence keeps its spacing behind it.
WITH next AS (
  SELECT f.campaign_id, min(f.scheduled_send_time) AS first,
         (%(until)s::date::timestamp AT TIME ZONE coalesce(c.ai_settings #>> '{sending_window,timezone}', 'UTC')) AS back
  FROM outreach_flows f JOIN campaigns c ON c.id = f.campaign_id
  WHERE f.contact_id = %(contact_id)s AND f.status = 'scheduled'
  GROUP BY f.campaign_id, c.ai_settings
)
UPDATE outreach_flows f
SET scheduled_send_time = f.scheduled_send_time + (n.back - n.first),
    status_reason = 'postponed: an automatic reply said the contact is back on ' || %(until)s::date
FROM next n
WHERE f.contact_id = %(contact_id)s AND f.status = 'scheduled' AND f.campaign_id = n.campaign_id
  AND n.first < n.back
RETURNING f.id;
