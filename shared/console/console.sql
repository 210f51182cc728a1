-- The console's statements. Each runs inside a transaction that console_as_member opened as the
-- signed-in person (role authenticated, their verified JWT claims), so grants and row level
-- security decide what it reads and changes, exactly as through the Data API. The organization
-- filters below only pick one of the person's organizations; they grant nothing.

-- name: console_as_member
SELECT set_config('request.jwt.claims', %(claims)s, true),
       set_config('role', 'authenticated', true),
       set_config('statement_timeout', '10s', true);

-- name: console_me
SELECT m.organization_id, o.org_name, m.role
FROM public.organization_members m JOIN public.organizations o ON o.id = m.organization_id
WHERE m.user_id = auth.uid()
ORDER BY o.org_name, m.organization_id;

-- name: console_campaigns
-- The organization's campaigns, newest first, before the cursor: what they are and why they
-- paused. Their figures come one campaign at a time (console_campaign_figures), so the list
-- answers at once and each row fills in as its figures arrive.
SELECT c.id AS campaign_id, c.campaign_name, c.status, c.paused_reason, c.created_at
FROM public.campaigns c
WHERE c.organization_id = %(org)s AND (c.created_at, c.id) < (%(before_at)s, %(before_id)s)
ORDER BY c.created_at DESC, c.id DESC
LIMIT %(limit)s;

-- name: console_campaign_figures
-- One campaign's figures: campaign_stats (the stats' rollup plus the rows changed since its last
-- refresh, migrations …0300 and …1100; the small tables read once from indexes) and
-- campaign_reply_stats (migration …0400): people's replies by intent and the reply rate, which
-- counts contacts who answered in their own words (not an automatic reply, not a delivery
-- report) per first message sent. replies_by_intent is the one place the inbox's classification
-- reaches the campaign view; it leaves out automatic replies, delivery reports and zeros.
SELECT s.campaign_id, s.status, s.paused_reason, s.outreach_flows, s.campaign_unsubscribes,
       s.unsubscribed_everywhere, s.bounced_or_complained, s.replied,
       r.first_messages_sent, r.human_replies, r.reply_rate::float8 AS reply_rate, r.needs_review,
       jsonb_strip_nulls(jsonb_build_object(
         'interested', nullif(r.interested, 0), 'meeting_request', nullif(r.meeting_request, 0),
         'question', nullif(r.question, 0), 'not_now', nullif(r.not_now, 0),
         'not_interested', nullif(r.not_interested, 0), 'wrong_person', nullif(r.wrong_person, 0),
         'referral', nullif(r.referral, 0), 'unsubscribe', nullif(r.unsubscribe, 0),
         'other', nullif(r.other, 0))) AS replies_by_intent
FROM public.campaign_stats s
JOIN public.campaign_reply_stats r ON r.campaign_id = s.campaign_id
WHERE s.campaign_id = %(campaign)s;

-- name: console_campaign_steps
-- Messages per step and status from campaign_flow_counts (the stats' rollup plus the rows changed
-- since it was refreshed, migration …0300): exact, without counting the campaign's messages.
SELECT f.sequence_order AS step, jsonb_object_agg(f.status, f.n) AS counts
FROM (SELECT sequence_order, status, sum(n)::bigint AS n FROM public.campaign_flow_counts
      WHERE campaign_id = %(campaign)s GROUP BY 1, 2) f
GROUP BY f.sequence_order
ORDER BY f.sequence_order;

-- name: console_campaign_mailboxes
-- The same per mailbox.
SELECT f.mailbox_id, mb.email, jsonb_object_agg(f.status, f.n) AS counts
FROM (SELECT mailbox_id, status, sum(n)::bigint AS n FROM public.campaign_flow_counts
      WHERE campaign_id = %(campaign)s AND mailbox_id IS NOT NULL GROUP BY 1, 2) f
LEFT JOIN public.mailboxes mb ON mb.id = f.mailbox_id
GROUP BY f.mailbox_id, mb.email
ORDER BY mb.email;

-- name: console_campaign_status
-- Pause, resume or complete: the same UPDATE a Data API client makes. Row level security lets
-- admins only; for a member it changes no row.
UPDATE public.campaigns SET status = %(status)s WHERE id = %(campaign)s
RETURNING id, status, paused_reason;

-- name: console_campaign_visible
SELECT organization_id FROM public.campaigns WHERE id = %(campaign)s;

-- name: console_drafts
-- The review queue: every draft of the organization (first messages, follow-ups, form
-- messages, replies), oldest first, after the cursor. Each comes with what it was grounded
-- on: the page the contact was found on, and the form's fields for a form message.
SELECT f.id, f.created_at, f.campaign_id, c.campaign_name, f.contact_id, f.flow_type, f.sequence_order AS step,
       f.subject, f.body, f.scheduled_send_time,
       ct.email, ct.name, ct.form_site,
       coalesce(ct.form_site, split_part(ct.email, '@', 2)) AS company,
       sr.website_url AS page_url, sr.page_title, sr.page_description,
       left(sr.raw_content, 1200) AS page_text,
       cf.page_url AS form_page, cf.fields AS form_fields,
       -- A reply draft is grounded on the prospect's message: the inbound message whose next
       -- step it is (inbound_messages.next_flow_id, set by the reply's next step).
       (SELECT jsonb_build_object('id', pm.id, 'subject', pm.subject, 'snippet', pm.snippet,
                                  'received_at', pm.received_at, 'intent', pm.intent)
        FROM public.inbound_messages pm
        WHERE pm.next_flow_id = f.id AND f.flow_type = 'reply'
        ORDER BY pm.received_at DESC LIMIT 1) AS prospect_message
FROM public.outreach_flows f
JOIN public.campaigns c ON c.id = f.campaign_id
JOIN public.contacts ct ON ct.id = f.contact_id
LEFT JOIN public.scrape_results sr ON sr.id = ct.source_scrape_id
LEFT JOIN public.contact_forms cf ON cf.id = ct.contact_form_id AND f.flow_type = 'form_submission'
WHERE f.organization_id = %(org)s AND f.status = 'draft'
  AND (f.created_at, f.id) > (%(after_at)s, %(after_id)s)
ORDER BY f.created_at, f.id
LIMIT %(limit)s;

-- name: console_drafts_count
SELECT count(*) AS n FROM public.outreach_flows WHERE organization_id = %(org)s AND status = 'draft';

-- name: console_draft_edit
UPDATE public.outreach_flows SET subject = %(subject)s, body = %(body)s
WHERE id = %(id)s AND status = 'draft'
RETURNING id, subject, body, status;

-- name: console_drafts_decide
-- Approve (scheduled) or reject (canceled) drafts: the statement a Data API client runs. Drafts
-- of another organization, or no longer drafts, are not changed and not returned.
UPDATE public.outreach_flows SET status = %(status)s
WHERE id = ANY (%(ids)s::uuid[]) AND status = 'draft'
RETURNING id, status;

-- name: console_inbox
-- People's answers across every mailbox, newest first, before the cursor.
SELECT m.id, m.kind, m.received_at, m.from_address, m.subject, m.snippet, m.contact_id, m.campaign_id,
       m.mailbox_id, c.campaign_name, ct.name AS contact_name,
       m.intent, m.intent_confidence, m.intent_evidence, m.needs_review
FROM public.inbound_messages m
LEFT JOIN public.campaigns c ON c.id = m.campaign_id
LEFT JOIN public.contacts ct ON ct.id = m.contact_id
WHERE m.organization_id = %(org)s AND m.kind IN ('reply', 'stop_request')
  AND (m.received_at, m.id) < (%(before_at)s, %(before_id)s)
  AND (%(intent)s::text IS NULL OR m.intent = %(intent)s::text)
ORDER BY m.received_at DESC, m.id DESC
LIMIT %(limit)s;

-- name: console_quarantine
-- Messages sync set aside (migration …0100): unreadable, or read and not believed. Newest first,
-- the organization's index range; row level security shows members their organizations' only.
SELECT q.id, mb.email AS mailbox, q.created_at, q.problem, q.reason, q.from_address, q.subject,
       q.read_again
FROM public.inbound_quarantine q
LEFT JOIN public.mailboxes mb ON mb.id = q.mailbox_id
WHERE q.organization_id = %(org)s
ORDER BY q.created_at DESC, q.id DESC
LIMIT 50;

-- name: console_quarantine_read_again
-- Ask the next sync to read the message again: the one column members may update
-- (GRANT UPDATE (read_again)); row level security leaves other organizations' rows unchanged.
UPDATE public.inbound_quarantine SET read_again = true WHERE id = %(id)s
RETURNING id, read_again;

-- name: console_thread
-- One conversation: what we sent the contact in the campaign and what came back, in time order,
-- and the drafts waiting in it (the page offers the last one to edit and approve), with the
-- reply draft this message led to (inbound_messages.next_flow_id) even from another campaign.
SELECT 'ours' AS side, f.id, coalesce(f.sent_at, f.scheduled_send_time) AS at, f.status, f.subject, f.body AS text
FROM public.outreach_flows f
WHERE f.contact_id = %(contact)s
  AND (f.campaign_id IS NOT DISTINCT FROM %(campaign)s OR f.id IS NOT DISTINCT FROM %(next_flow)s)
  AND f.status IN ('sent', 'sending', 'draft', 'scheduled')
UNION ALL
SELECT 'theirs', m.id, m.received_at, m.kind, m.subject, m.snippet
FROM public.inbound_messages m
WHERE m.contact_id = %(contact)s
ORDER BY at NULLS LAST, side
LIMIT 200;

-- name: console_inbox_message
SELECT id, contact_id, campaign_id, next_flow_id FROM public.inbound_messages WHERE id = %(id)s;

-- name: console_mailboxes
-- Each mailbox with its health and today's figures: messages in the last 24 hours against the
-- cap its ramp allows today (the same formula as private.mailbox_cap, which members cannot call),
-- and its sending domain's verdict (sender_domain_status of migration …0600: ok, held and why,
-- not checked yet). Complaint rates come after, from console_complaint_rates.
SELECT mb.id, mb.email, mb.display_name, mb.active, mb.paused_reason, mb.daily_cap, mb.ramp_start, mb.ramp_step,
       CASE WHEN mb.ramp_start IS NULL THEN mb.daily_cap
            ELSE least(mb.daily_cap, mb.ramp_start + mb.ramp_step
                       * floor(extract(epoch FROM now() - mb.created_at) / 86400)::integer) END AS cap_today,
       (SELECT count(*) FROM public.outreach_flows f
        WHERE f.mailbox_id = mb.id AND f.status IN ('sent', 'sending') AND f.sent_at > now() - interval '24 hours'
       ) AS sent_today,
       mb.smtp_endpoint, mb.imap_endpoint, mb.smtp_error, mb.smtp_error_at, mb.send_blocked_until,
       mb.imap_error, mb.imap_error_at, mb.last_synced_at, mb.created_at,
       split_part(mb.email, '@', 2) AS domain, sd.status AS domain_status, sd.problem AS domain_problem,
       sd.checked_at AS domain_checked_at
FROM public.mailboxes mb
LEFT JOIN public.sender_domain_status sd
  ON sd.organization_id = mb.organization_id AND sd.domain = split_part(mb.email, '@', 2)
WHERE mb.organization_id = %(org)s
ORDER BY mb.email
LIMIT 500;

-- name: console_complaint_rates
-- Each mailbox's complaint rates over 7 and 30 days beside Gmail's lines, 0.001 and 0.003
-- (complaint_rates, migration …1200: each mailbox's messages of 30 days counted from an index,
-- complaints from the contacts who complained). It still grows with the mail of 30 days, so the
-- page asks for it after the list, which answers at once. Rates as float8: numeric would reach
-- the page as a string.
SELECT cr.mailbox_id, cr.delivered_7d, cr.complaints_7d, cr.complaint_rate_7d::float8 AS complaint_rate_7d,
       cr.delivered_30d, cr.complaints_30d, cr.complaint_rate_30d::float8 AS complaint_rate_30d,
       cr.gmail_target_rate::float8 AS gmail_target_rate, cr.gmail_limit_rate::float8 AS gmail_limit_rate,
       cr.standing_7d
FROM public.complaint_rates cr
WHERE cr.scope = 'mailbox' AND cr.organization_id = %(org)s
ORDER BY cr.email
LIMIT 500;

-- name: console_mailbox_active
-- Pause or resume a mailbox: admins only, by row level security.
UPDATE public.mailboxes SET active = %(active)s WHERE id = %(id)s
RETURNING id, active, paused_reason;

-- name: console_mailbox_visible
SELECT organization_id FROM public.mailboxes WHERE id = %(id)s;

-- name: console_mailbox_add
SELECT public.add_mailbox(%(org)s, %(email)s, %(smtp_url)s, %(imap_url)s, %(daily_cap)s) AS id;

-- name: console_contacts
-- Contacts whose address, name or company starts with the search (public.search_contacts,
-- migration …0700: an index range, which row level security would not allow), read under row
-- level security.
SELECT ct.id, ct.email, ct.name, ct.form_site, ct.reached_status, ct.unsubscribe_requested, ct.created_at,
       coalesce(ct.form_site, split_part(ct.email, '@', 2)) AS company
FROM public.contacts ct
WHERE ct.id = ANY (public.search_contacts(%(org)s, %(prefix)s, %(limit)s))
ORDER BY lower(coalesce(ct.email, ct.form_site)), ct.id;

-- name: console_contacts_recent
-- Without a search: the newest contacts, before the cursor.
SELECT ct.id, ct.email, ct.name, ct.form_site, ct.reached_status, ct.unsubscribe_requested, ct.created_at,
       coalesce(ct.form_site, split_part(ct.email, '@', 2)) AS company
FROM public.contacts ct
WHERE ct.organization_id = %(org)s AND (ct.created_at, ct.id) < (%(before_at)s, %(before_id)s)
ORDER BY ct.created_at DESC, ct.id DESC
LIMIT %(limit)s;

-- name: console_contact
SELECT id, organization_id, email, form_site FROM public.contacts WHERE id = %(id)s;

-- name: console_contact_data
SELECT public.contact_data_by_id(%(id)s) AS data;

-- name: console_contact_unsubscribe
-- Someone asked to stop by other means: the same one-way update a Data API client makes.
UPDATE public.contacts
-- A bounce or a complaint stays what it is: the system recorded it, and it says more.
SET unsubscribe_requested = true, unsubscribe_reason = %(reason)s,
    reached_status = CASE WHEN reached_status IN ('bounced', 'complained') THEN reached_status ELSE 'unsubscribed' END
WHERE id = %(id)s
RETURNING id, unsubscribe_requested, reached_status;
