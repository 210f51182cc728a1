-- sync_mailboxes: which mailbox to read next, what a message read from it answers, and what
-- it changes. Every lookup is scoped to the mailbox's organization, so a Message-ID named in
-- one organization's mail never touches another organization's contacts.

-- name: claim-mailbox-sync
-- The next mailbox to read in this run: active, with an IMAP side, not leased by another
-- instance, not read (or failed) since the run began, and not waiting after a failure. The one
-- tried longest ago comes first, so a failing mailbox never goes before the healthy ones.
UPDATE mailboxes m
SET sync_lease_expires_at = now() + make_interval(secs => %(lease)s)
FROM vault.decrypted_secrets s
WHERE m.id = (
    SELECT id FROM mailboxes
    WHERE active AND imap_secret_id IS NOT NULL
      AND (sync_lease_expires_at IS NULL OR sync_lease_expires_at < now())
      AND (sync_retry_at IS NULL OR sync_retry_at <= now())
      AND (last_synced_at IS NULL OR last_synced_at < %(started)s)
      AND (imap_error_at IS NULL OR imap_error_at < %(started)s)
    ORDER BY greatest(last_synced_at, imap_error_at) NULLS FIRST, id
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
SET last_synced_at = now(), imap_error = NULL, imap_error_at = NULL, sync_lease_expires_at = NULL,
    sync_retry_at = NULL, imap_failures = 0
WHERE id = %(id)s;

-- name: mailbox-sync-failed
-- The mailbox waits MAILBOX_RETRY_SECONDS, doubled after each failure in a row, at most 6 hours.
UPDATE mailboxes
SET imap_error = %(reason)s, imap_error_at = now(), sync_lease_expires_at = NULL,
    imap_failures = imap_failures + 1,
    sync_retry_at = now() + least(make_interval(secs => %(wait)s * power(2, least(imap_failures, 16))),
                                  interval '6 hours')
WHERE id = %(id)s
RETURNING sync_retry_at;

-- name: quarantine-message
-- A message set aside, with why: its UID stays known, so a person can have it read again.
INSERT INTO inbound_quarantine (organization_id, mailbox_id, uidvalidity, uid, problem, reason, kind, contact_id,
                                from_address, subject, snippet, fingerprint)
VALUES (%(organization_id)s, %(mailbox_id)s, %(uidvalidity)s, %(uid)s, %(problem)s, left(%(reason)s, 500), %(kind)s,
        %(contact_id)s, %(sender)s, %(subject)s, %(snippet)s, %(fingerprint)s)
ON CONFLICT (mailbox_id, uidvalidity, uid) DO UPDATE
SET problem = EXCLUDED.problem, reason = EXCLUDED.reason, kind = EXCLUDED.kind, contact_id = EXCLUDED.contact_id,
    from_address = EXCLUDED.from_address, subject = EXCLUDED.subject, snippet = EXCLUDED.snippet,
    fingerprint = EXCLUDED.fingerprint, attempts = inbound_quarantine.attempts + 1, read_again = false,
    updated_at = now();

-- name: uids-to-read-again
-- The messages a person asked to have read again, under the INBOX's present numbering.
SELECT uid FROM inbound_quarantine
WHERE mailbox_id = %(mailbox_id)s AND uidvalidity = %(uidvalidity)s AND read_again
ORDER BY uid
LIMIT 1000;

-- name: read-again-done
-- A message read again without a problem leaves the quarantine.
DELETE FROM inbound_quarantine
WHERE mailbox_id = %(mailbox_id)s AND uidvalidity = %(uidvalidity)s AND uid = %(uid)s AND read_again;

-- name: find-answered-flow
-- The message of this organization that an inbound message names (In-Reply-To, References),
-- newest first, with the address it went to.
SELECT f.id AS flow_id, f.contact_id, f.campaign_id, ct.email AS contact_email
FROM outreach_flows f JOIN contacts ct ON ct.id = f.contact_id
WHERE f.message_id = ANY(%(references)s) AND f.organization_id = %(organization_id)s
ORDER BY f.sent_at DESC NULLS LAST
LIMIT 1;

-- name: find-quoted-flow-to-address
-- A delivery report is believed only for a message of ours it quotes (its returned headers'
-- Message-ID) that went to the very address it says failed.
SELECT f.id AS flow_id, f.contact_id, f.campaign_id, ct.email AS contact_email
FROM outreach_flows f JOIN contacts ct ON ct.id = f.contact_id
WHERE f.message_id = ANY(%(quoted)s) AND f.organization_id = %(organization_id)s
  AND lower(ct.email) = lower(%(address)s)
ORDER BY f.sent_at DESC NULLS LAST
LIMIT 1;

-- name: find-flows-to-address
-- The messages this mailbox sent to an address, with the subject their thread began with.
SELECT f.id AS flow_id, f.contact_id, f.campaign_id, ct.email AS contact_email, first.subject AS thread_subject
FROM contacts ct
JOIN outreach_flows f ON f.contact_id = ct.id
LEFT JOIN outreach_flows first
  ON first.campaign_id = f.campaign_id AND first.contact_id = f.contact_id AND first.sequence_order = 0
WHERE ct.organization_id = %(organization_id)s AND lower(ct.email) = lower(%(address)s)
  AND f.mailbox_id = %(mailbox_id)s AND f.status = 'sent'
ORDER BY f.sent_at DESC
LIMIT 20;

-- name: is-public-mail-address
SELECT EXISTS (SELECT 1 FROM public_mail_domains d WHERE d.domain = lower(split_part(%(address)s, '@', 2))) AS public;

-- name: contact-zone-clues
SELECT timezone, phone, email FROM contacts WHERE id = %(contact_id)s;

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
-- waiting message moves to the start of that day in the campaign's time zone ("recipient", the
-- default: the contact's own, as the sending path reads it), and the rest of the sequence keeps
-- its spacing behind it.
WITH next AS (
  SELECT f.campaign_id, min(f.scheduled_send_time) AS first,
         (%(until)s::date::timestamp AT TIME ZONE
            CASE WHEN coalesce(c.ai_settings #>> '{sending_window,timezone}', 'recipient') = 'recipient'
                 THEN %(recipient_zone)s::text
                 ELSE c.ai_settings #>> '{sending_window,timezone}' END) AS back
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

-- name: mark-refused-by-policy
-- A delivery report saying the receiving server refused the sender by policy (5.7.x) for a
-- message we recorded as sent: it failed, no address is blamed, and the mark feeds the mailbox's
-- circuit breaker (migration …1300).
UPDATE outreach_flows
SET status = 'failed', refused_by_policy = true, status_reason = %(reason)s
WHERE id = %(id)s AND status = 'sent';
