-- complaint_rates without joining every message of 30 days to its contact. Replaces the view of
-- 20261204000600 (same columns, same answers).
--
-- Before, one CTE joined each message the mailboxes sent in 30 days with its contact, and was
-- read twice (per mailbox and per sending domain), so it was materialised whole and a filter on
-- the organization did not reach inside it: 0.5 to 0.7 s at a million messages. Now:
--   * the messages each mailbox delivered are counted from outreach_flows_mailbox_sent_idx
--     (mailbox, sent_at), one range per mailbox, which now also holds each message's status and
--     organization: the count (a member's, filtered by organization, too) reads the index only;
--   * complaints start from the few contacts who complained and the mail each got.
-- Both parts are NOT MATERIALIZED: each reading (per mailbox, per domain) is planned with the
-- caller's filter. The console's complaint rates at a million messages: 673 ms before, 25 ms
-- after (docs/PERFORMANCE.md).
--
-- The index keeps its rows (a message being sent or sent by a mailbox): send_due writes the
-- same entries as before, each a little wider (its CPU a message: 1.88 ms before, 1.93 after,
-- within this machine's noise). Building it takes a lock that holds send_due's writes until it
-- is built: about a second a million messages here, so deploy this migration outside sending.

CREATE INDEX outreach_flows_mailbox_sent_covering_idx ON public.outreach_flows (mailbox_id, sent_at)
  INCLUDE (status, organization_id)
  WHERE mailbox_id IS NOT NULL AND status IN ('sent', 'sending');
DROP INDEX public.outreach_flows_mailbox_sent_idx;
ALTER INDEX public.outreach_flows_mailbox_sent_covering_idx RENAME TO outreach_flows_mailbox_sent_idx;

CREATE OR REPLACE VIEW public.complaint_rates WITH (security_invoker = true) AS
WITH delivered AS NOT MATERIALIZED (
  SELECT m.organization_id, m.id AS mailbox_id, m.email, split_part(m.email, '@', 2) AS domain,
         d.delivered_7d, d.delivered_30d
  FROM public.mailboxes m
  CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE f.sent_at > now() - interval '7 days') AS delivered_7d, count(*) AS delivered_30d
    FROM public.outreach_flows f
    WHERE f.mailbox_id = m.id AND f.status = 'sent' AND f.sent_at > now() - interval '30 days'
  ) d
), complained AS NOT MATERIALIZED (
  -- Each complaining contact's latest message from each mailbox in 30 days.
  -- Keyed by the mailbox's organization, as the rest of the view.
  SELECT m.organization_id, f.mailbox_id, split_part(m.email, '@', 2) AS domain, f.contact_id,
         max(f.sent_at) AS last_sent
  FROM public.contacts ct
  JOIN public.outreach_flows f ON f.contact_id = ct.id
  JOIN public.mailboxes m ON m.id = f.mailbox_id
  WHERE ct.reached_status = 'complained' AND f.status = 'sent' AND f.sent_at > now() - interval '30 days'
  GROUP BY m.organization_id, f.mailbox_id, m.email, f.contact_id
), counted AS (
  SELECT 'mailbox' AS scope, d.organization_id, d.mailbox_id, d.email, d.domain, d.delivered_7d,
         (SELECT count(*) FROM complained c
          WHERE c.mailbox_id = d.mailbox_id AND c.last_sent > now() - interval '7 days') AS complaints_7d,
         d.delivered_30d,
         (SELECT count(*) FROM complained c WHERE c.mailbox_id = d.mailbox_id) AS complaints_30d
  FROM delivered d
  UNION ALL
  SELECT 'domain', d.organization_id, NULL::uuid, NULL::text, d.domain, sum(d.delivered_7d)::bigint,
         (SELECT count(DISTINCT c.contact_id) FROM complained c
          WHERE c.organization_id = d.organization_id AND c.domain = d.domain
            AND c.last_sent > now() - interval '7 days'),
         sum(d.delivered_30d)::bigint,
         (SELECT count(DISTINCT c.contact_id) FROM complained c
          WHERE c.organization_id = d.organization_id AND c.domain = d.domain)
  FROM delivered d
  GROUP BY d.organization_id, d.domain
)
SELECT scope, organization_id, mailbox_id, email, domain,
       delivered_7d, complaints_7d,
       round(complaints_7d::numeric / NULLIF(delivered_7d, 0), 5) AS complaint_rate_7d,
       delivered_30d, complaints_30d,
       round(complaints_30d::numeric / NULLIF(delivered_30d, 0), 5) AS complaint_rate_30d,
       0.001 AS gmail_target_rate,
       0.003 AS gmail_limit_rate,
       CASE WHEN delivered_7d = 0 THEN 'no mail in 7 days'
            WHEN complaints_7d::numeric / delivered_7d >= 0.003 THEN 'at or above 0.3%'
            WHEN complaints_7d::numeric / delivered_7d >= 0.001 THEN 'at or above 0.1%'
            ELSE 'below 0.1%' END AS standing_7d
FROM counted;
