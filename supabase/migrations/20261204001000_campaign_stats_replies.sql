-- campaign_stats with what replies and sending domains add: human replies by intent, the reply
-- rate over first messages sent (human replies only: automatic replies and bounce reports do not
-- count), replies waiting for a person's review, and why a sending domain holds the campaign's
-- mail, and the complaint rate beside Gmail's lines. Replaces the view of 20261204000300 (its columns first, in the same order); the rollup
-- it reads is unchanged. campaign_reply_stats takes its base from the same rollup.

DROP VIEW public.campaign_stats;
CREATE VIEW public.campaign_stats WITH (security_invoker = true) AS
SELECT
  c.id AS campaign_id,
  c.organization_id,
  c.campaign_name,
  c.status,
  coalesce(st.counts, '{}') AS search_tasks,
  coalesce(sr.counts, '{}') AS scrape_results,
  coalesce(cc.counts, '{}') AS campaign_contacts,
  coalesce(f.counts, '{}') AS outreach_flows,
  coalesce(u.n, 0) AS campaign_unsubscribes,
  coalesce(oo.unsubscribed, 0) AS unsubscribed_everywhere,
  coalesce(oo.bounced, 0) AS bounced_or_complained,
  coalesce(cc.prompt_tokens, 0)::bigint AS prompt_tokens,
  coalesce(cc.completion_tokens, 0)::bigint AS completion_tokens,
  coalesce(im.replied, 0) AS replied,
  c.paused_reason,
  coalesce(im.by_intent, '{}') AS replies_by_intent,
  coalesce(im.human_replies, 0) AS human_replies,
  coalesce(im.needs_review, 0) AS replies_to_review,
  coalesce(f.first_sent, 0) AS first_messages_sent,
  CASE WHEN coalesce(f.first_sent, 0) > 0 THEN round(coalesce(im.human_replies, 0)::numeric / f.first_sent, 4) END AS reply_rate,
  sdp.sender_domain_problem,
  -- Complaints over the people written to, since the campaign began, beside Gmail's lines (keep it
  -- under 0.001, never reach 0.003). The 7- and 30-day rates per mailbox and sending domain are
  -- public.complaint_rates'.
  coalesce(oo.complained, 0) AS complaints,
  CASE WHEN coalesce(f.first_sent, 0) > 0 THEN round(coalesce(oo.complained, 0)::numeric / f.first_sent, 5) END
    AS complaint_rate,
  0.001 AS complaint_rate_target,
  0.003 AS complaint_rate_limit
FROM public.campaigns c
LEFT JOIN LATERAL (
  SELECT jsonb_object_agg(status, n) AS counts FROM (
    SELECT t.status, count(*) AS n FROM public.search_tasks t WHERE t.campaign_id = c.id GROUP BY t.status) s
) st ON true
LEFT JOIN LATERAL (
  SELECT jsonb_object_agg(status, n) AS counts FROM (
    SELECT r.status, count(*) AS n FROM public.search_tasks t JOIN public.scrape_results r ON r.search_task_id = t.id
    WHERE t.campaign_id = c.id GROUP BY r.status) s
) sr ON true
-- Not lateral: grouped once; a filter on the campaign or the organization reaches every part.
LEFT JOIN (
  SELECT campaign_id, organization_id, jsonb_object_agg(status, n) FILTER (WHERE n <> 0) AS counts,
         sum(p) AS prompt_tokens, sum(q) AS completion_tokens
  FROM (
    SELECT campaign_id, organization_id, status, sum(n) AS n, sum(p) AS p, sum(q) AS q FROM (
      SELECT r.campaign_id, r.organization_id, r.status, r.n, r.prompt_tokens AS p, r.completion_tokens AS q
      FROM private.campaign_contact_rollup r
      UNION ALL
      SELECT d.campaign_id, d.organization_id, d.status, d.n, d.prompt_tokens, d.completion_tokens
      FROM private.campaign_contact_changes() d
    ) counted GROUP BY campaign_id, organization_id, status
  ) s GROUP BY campaign_id, organization_id
) cc ON cc.campaign_id = c.id AND cc.organization_id = c.organization_id
LEFT JOIN (
  -- The messages per status and the first messages sent, from one reading of the rollup.
  SELECT campaign_id, organization_id, jsonb_object_agg(status, n) AS counts, sum(first_sent)::bigint AS first_sent
  FROM (
    SELECT campaign_id, organization_id, status, sum(n) AS n,
           sum(n) FILTER (WHERE sequence_order = 0 AND status = 'sent') AS first_sent
    FROM public.campaign_flow_counts
    GROUP BY campaign_id, organization_id, status) s
  GROUP BY campaign_id, organization_id
) f ON f.campaign_id = c.id AND f.organization_id = c.organization_id
LEFT JOIN LATERAL (
  SELECT count(*) AS n FROM public.campaign_unsubscribes x WHERE x.campaign_id = c.id
) u ON true
-- From the few contacts who opted out to their enrollments, one index lookup each (OFFSET 0
-- keeps the lookup per contact: joined whole, the planner would read every enrollment).
LEFT JOIN (
  SELECT x.campaign_id, ct.organization_id,
         count(*) FILTER (WHERE ct.unsubscribe_requested) AS unsubscribed,
         count(*) FILTER (WHERE ct.reached_status IN ('bounced', 'complained')) AS bounced,
         count(*) FILTER (WHERE ct.reached_status = 'complained') AS complained
  FROM public.contacts ct
  CROSS JOIN LATERAL (SELECT x.campaign_id FROM public.campaign_contacts x WHERE x.contact_id = ct.id OFFSET 0) x
  WHERE ct.unsubscribe_requested OR ct.reached_status IN ('unsubscribed', 'bounced', 'complained')
  GROUP BY x.campaign_id, ct.organization_id
) oo ON oo.campaign_id = c.id AND oo.organization_id = c.organization_id
LEFT JOIN public.campaign_sender_domain_problems sdp
  ON sdp.campaign_id = c.id AND sdp.organization_id = c.organization_id
-- What came back: who answered, and human replies by intent (one per person and intent).
LEFT JOIN LATERAL (
  SELECT count(DISTINCT m.contact_id) FILTER (WHERE m.kind IN ('reply', 'stop_request')) AS replied,
         count(DISTINCT m.contact_id) FILTER (
           WHERE m.kind IN ('reply', 'stop_request') AND m.intent IS DISTINCT FROM 'auto_reply'
             AND m.intent IS DISTINCT FROM 'bounce') AS human_replies,
         count(*) FILTER (WHERE m.needs_review) AS needs_review,
         (SELECT jsonb_object_agg(i.intent, i.n) FROM (
            SELECT x.intent, count(DISTINCT x.contact_id) AS n FROM public.inbound_messages x
            WHERE x.campaign_id = c.id AND x.kind IN ('reply', 'stop_request') AND x.intent IS NOT NULL
            GROUP BY x.intent) i) AS by_intent
  FROM public.inbound_messages m
  WHERE m.campaign_id = c.id
) im ON true;

REVOKE ALL ON public.campaign_stats FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.campaign_stats TO authenticated;
GRANT ALL ON public.campaign_stats TO service_role;

-- The same base for campaign_reply_stats: first messages sent from the rollup, not counted.
CREATE OR REPLACE VIEW public.campaign_reply_stats WITH (security_invoker = true) AS
SELECT
  c.id AS campaign_id,
  c.organization_id,
  coalesce(m.interested, 0) AS interested,
  coalesce(m.meeting_request, 0) AS meeting_request,
  coalesce(m.question, 0) AS question,
  coalesce(m.not_now, 0) AS not_now,
  coalesce(m.not_interested, 0) AS not_interested,
  coalesce(m.wrong_person, 0) AS wrong_person,
  coalesce(m.referral, 0) AS referral,
  coalesce(m.unsubscribe, 0) AS unsubscribe,
  coalesce(m.auto_reply, 0) AS auto_reply,
  coalesce(m.bounce, 0) AS bounce,
  coalesce(m.other, 0) AS other,
  coalesce(m.needs_review, 0) AS needs_review,
  coalesce(m.human_replies, 0) AS human_replies,
  coalesce(f.first_messages_sent, 0) AS first_messages_sent,
  CASE WHEN coalesce(f.first_messages_sent, 0) > 0
       THEN round(coalesce(m.human_replies, 0)::numeric / f.first_messages_sent, 4) END AS reply_rate
FROM public.campaigns c
LEFT JOIN LATERAL (
  SELECT count(*) FILTER (WHERE x.intent = 'interested') AS interested,
         count(*) FILTER (WHERE x.intent = 'meeting_request') AS meeting_request,
         count(*) FILTER (WHERE x.intent = 'question') AS question,
         count(*) FILTER (WHERE x.intent = 'not_now') AS not_now,
         count(*) FILTER (WHERE x.intent = 'not_interested') AS not_interested,
         count(*) FILTER (WHERE x.intent = 'wrong_person') AS wrong_person,
         count(*) FILTER (WHERE x.intent = 'referral') AS referral,
         count(*) FILTER (WHERE x.intent = 'unsubscribe') AS unsubscribe,
         count(*) FILTER (WHERE x.intent = 'auto_reply' OR (x.intent IS NULL AND x.kind = 'auto_reply')) AS auto_reply,
         count(*) FILTER (WHERE x.intent = 'bounce' OR (x.intent IS NULL AND x.kind = 'bounce')) AS bounce,
         count(*) FILTER (WHERE x.intent = 'other') AS other,
         count(*) FILTER (WHERE x.needs_review) AS needs_review,
         count(DISTINCT x.contact_id) FILTER (
           WHERE x.kind IN ('reply', 'stop_request') AND x.intent IS DISTINCT FROM 'auto_reply'
             AND x.intent IS DISTINCT FROM 'bounce') AS human_replies
  FROM public.inbound_messages x WHERE x.campaign_id = c.id
) m ON true
LEFT JOIN (
  SELECT campaign_id, organization_id, sum(n)::bigint AS first_messages_sent FROM public.campaign_flow_counts
  WHERE sequence_order = 0 AND status = 'sent' GROUP BY campaign_id, organization_id
) f ON f.campaign_id = c.id AND f.organization_id = c.organization_id;
