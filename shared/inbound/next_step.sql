-- What a reply leads to: its intent recorded, and the next step (a reply draft, a follow-up
-- draft, a referred contact), always waiting for a person where a message would go out.

-- name: record-intent
-- The reading and the step it led to, in one write (the negative-reply breaker's trigger runs on it).
UPDATE inbound_messages
SET intent = %(intent)s, intent_confidence = %(confidence)s, intent_evidence = %(evidence)s,
    intent_by = %(by)s, needs_review = %(needs_review)s, follow_up_on = %(follow_up_on)s,
    next_step = %(step)s, next_flow_id = %(flow_id)s, referred_contact_id = %(referred)s
WHERE id = %(id)s;

-- name: get-reply-context
-- Who answered, in which campaign, from which organization, and what we wrote them so far.
-- Returns rows.ReplyContext.
SELECT ct.id AS contact_id, ct.email, ct.name AS contact_name, ct.timezone AS contact_timezone, ct.phone,
       ct.language_preference, c.id AS campaign_id, c.instructions, c.status AS campaign_status, o.org_name,
       coalesce(m.display_name, c.ai_settings ->> 'sender_name', o.org_name) AS sender_name,
       (SELECT coalesce(max(f.sequence_order), -1) + 1 FROM outreach_flows f
        WHERE f.campaign_id = c.id AND f.contact_id = ct.id) AS next_order,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(f.subject, f.body) ORDER BY f.sent_at), '[]')
        FROM outreach_flows f
        WHERE f.campaign_id = c.id AND f.contact_id = ct.id AND f.status = 'sent') AS ours
FROM contacts ct
JOIN campaigns c ON c.id = %(campaign_id)s AND c.organization_id = ct.organization_id
JOIN organizations o ON o.id = c.organization_id
LEFT JOIN mailboxes m ON m.id = %(mailbox_id)s
WHERE ct.id = %(contact_id)s;

-- name: insert-reply-draft
-- A reply (or a follow-up a not_now reply asked for) in the same campaign and thread, from the
-- mailbox that received the prospect's message, waiting for a person's approval.
INSERT INTO outreach_flows (campaign_id, contact_id, sequence_order, status, subject, body, scheduled_send_time,
                            flow_type, mailbox_id, in_reply_to, reply_references, status_reason)
VALUES (%(campaign_id)s, %(contact_id)s, %(step)s, 'draft', %(subject)s, %(body)s, %(when)s,
        'reply', %(mailbox_id)s, %(in_reply_to)s, %(references)s, %(reason)s)
ON CONFLICT (campaign_id, contact_id, sequence_order) DO NOTHING
RETURNING id;

-- name: upsert-referred-contact
-- The person a reply names: a new contact of the organization (or the one already known, kept
-- as it is), with who referred them and in which message, for contact_data().
INSERT INTO contacts (organization_id, email, name, language_preference, timezone, extra_data)
VALUES (%(organization_id)s, %(email)s, %(name)s, %(language)s, %(timezone)s, %(extra)s)
ON CONFLICT (organization_id, (lower(email))) DO UPDATE
SET name = coalesce(contacts.name, EXCLUDED.name),
    extra_data = EXCLUDED.extra_data || contacts.extra_data
RETURNING id;

-- name: enroll-referred-contact
-- The referred person joins the campaign (the one-conversation-per-company rule is for people
-- found on a site, not for one a prospect points us to); not someone who said no.
INSERT INTO campaign_contacts (campaign_id, contact_id)
SELECT %(campaign_id)s, %(contact_id)s
WHERE public.suppression_reason(%(contact_id)s, %(campaign_id)s) IS NULL
ON CONFLICT (campaign_id, contact_id) DO NOTHING
RETURNING contact_id;
