-- Complaint feedback reports (ARF) read from the mailboxes.

-- name: find-reported-flow
-- The message a report returns, by its Message-ID, among this organization's sent mail only.
SELECT f.id AS flow_id, f.contact_id, f.campaign_id
FROM outreach_flows f
WHERE f.message_id = %(message_id)s AND f.organization_id = %(organization_id)s
  AND f.status IN ('sent', 'sending', 'failed')
LIMIT 1;

-- name: remember-feedback-report
-- Returns a row the first time a report is read from a mailbox, none after.
INSERT INTO feedback_reports (organization_id, mailbox_id, flow_id, contact_id, feedback_type, reporter,
                              reported_message_id, original_recipient, arrival_date, fingerprint)
VALUES (%(organization_id)s, %(mailbox_id)s, %(flow_id)s, %(contact_id)s, %(feedback_type)s, %(reporter)s,
        %(reported_message_id)s, %(original_recipient)s, %(arrival_date)s, %(fingerprint)s)
ON CONFLICT (mailbox_id, fingerprint) DO NOTHING
RETURNING id;
