-- Unsubscribes, bounces, complaints and replies: each stops mail at once, in one transaction
-- with the cancellation of the contact's waiting messages.

-- name: get-unsubscribe-context
-- Returns rows.UnsubscribeContext.
SELECT f.id AS flow_id, f.campaign_id, f.contact_id, ct.email, ct.form_site, ct.language_preference,
       c.ai_settings ->> 'public_name' AS public_name, c.default_language, o.org_name
FROM outreach_flows f
JOIN contacts ct ON ct.id = f.contact_id
JOIN campaigns c ON c.id = f.campaign_id
JOIN organizations o ON o.id = c.organization_id
WHERE f.id = %(flow_id)s;

-- name: unsubscribe-from-campaign
INSERT INTO campaign_unsubscribes (campaign_id, contact_id, reason)
VALUES (%(campaign_id)s, %(contact_id)s, %(reason)s)
ON CONFLICT (campaign_id, contact_id) DO NOTHING
RETURNING id;

-- name: unsubscribe-globally
-- Repeating it changes nothing: the guard leaves an unsubscribed contact untouched.
UPDATE contacts
SET unsubscribe_requested = true,
    unsubscribe_reason = %(reason)s,
    reached_status = CASE WHEN reached_status IN ('pending', 'responded') THEN 'unsubscribed' ELSE reached_status END
WHERE id = %(contact_id)s AND NOT unsubscribe_requested
RETURNING id;

-- name: find-flow-by-message-id
SELECT f.id AS flow_id, f.contact_id, f.campaign_id, c.organization_id
FROM outreach_flows f JOIN campaigns c ON c.id = f.campaign_id
WHERE f.message_id = %(message_id)s;

-- name: find-contact-by-email
SELECT id AS contact_id, reached_status
FROM contacts
WHERE organization_id = %(organization_id)s AND lower(email) = lower(%(email)s);

-- name: mark-contact-status
-- Stronger states win: a complaint outranks a bounce, which outranks an unsubscribe or a reply.
UPDATE contacts
SET reached_status = %(status)s,
    unsubscribe_reason = coalesce(unsubscribe_reason, %(reason)s)
WHERE id = %(contact_id)s
  AND array_position(ARRAY['pending', 'responded', 'unsubscribed', 'bounced', 'complained'], reached_status)
      < array_position(ARRAY['pending', 'responded', 'unsubscribed', 'bounced', 'complained'], %(status)s::text)
RETURNING id;

-- name: remember-sns-message
-- A MessageId seen for the first time returns a row. Records older than SNS messages may be
-- (an hour) are forgotten on the way.
WITH forgotten AS (
  DELETE FROM sns_messages WHERE received_at < now() - interval '2 hours'
)
INSERT INTO sns_messages (message_id) VALUES (%(message_id)s)
ON CONFLICT (message_id) DO NOTHING
RETURNING message_id;

-- name: forget-sns-message
DELETE FROM sns_messages WHERE message_id = %(message_id)s;
