-- draft_message: what a draft is written from, and the sequence it becomes.

-- name: get-draft-context
SELECT cc.campaign_id, cc.contact_id, c.ai_settings ->> 'public_name' AS public_name, c.instructions, c.tone, c.word_limit, c.ai_settings,
       c.default_language, c.status AS campaign_status, o.org_name,
       ct.email, ct.name AS contact_name, ct.language_preference, ct.extra_data, ct.phone,
       ct.timezone AS contact_timezone, ct.contact_form_id, cf.fields AS form_fields, cf.roles AS form_roles,
       s.website_url, s.page_title, s.page_description, s.site_name, s.raw_content AS site_text,
       (SELECT count(*) FROM outreach_flows f
        WHERE f.campaign_id = cc.campaign_id AND f.contact_id = cc.contact_id) AS existing_steps
FROM campaign_contacts cc
JOIN campaigns c ON c.id = cc.campaign_id
JOIN organizations o ON o.id = c.organization_id
JOIN contacts ct ON ct.id = cc.contact_id
LEFT JOIN scrape_results s ON s.id = ct.source_scrape_id
LEFT JOIN contact_forms cf ON cf.id = ct.contact_form_id
WHERE cc.campaign_id = %(campaign_id)s AND cc.contact_id = %(contact_id)s;

-- name: insert-flow-step
INSERT INTO outreach_flows (campaign_id, contact_id, sequence_order, status, subject, body, scheduled_send_time, flow_type)
VALUES (%(campaign_id)s, %(contact_id)s, %(step)s, %(status)s, %(subject)s, %(body)s, %(when)s, %(flow_type)s)
ON CONFLICT (campaign_id, contact_id, sequence_order) DO NOTHING
RETURNING id;

-- name: record-draft-usage
UPDATE campaign_contacts
SET drafted_with = %(drafter)s, prompt_tokens = prompt_tokens + %(prompt_tokens)s,
    completion_tokens = completion_tokens + %(completion_tokens)s
WHERE campaign_id = %(campaign_id)s AND contact_id = %(contact_id)s;

-- name: postpone-draft
-- A paused campaign: the row waits, without spending an attempt.
UPDATE campaign_contacts
SET status = 'pending', attempts = greatest(attempts - 1, 0), lease_expires_at = NULL,
    next_attempt_at = now() + make_interval(secs => %(delay)s), status_reason = 'waiting: the campaign is paused'
WHERE campaign_id = %(campaign_id)s AND contact_id = %(contact_id)s AND status = 'drafting'
  AND attempts = %(attempts)s;
