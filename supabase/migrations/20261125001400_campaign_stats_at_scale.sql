-- campaign_stats at millions of messages: each table read once per campaign, from indexes that
-- hold what is counted (index-only scans), and the opt-out counts driven from the few contacts
-- who opted out instead of joining every enrolled contact. The contact list gets its index.
-- organization_id is included so a member's read, filtered by the policy on it, stays index-only.
CREATE INDEX outreach_flows_campaign_status_idx ON public.outreach_flows (campaign_id, status)
  INCLUDE (organization_id);
CREATE INDEX campaign_contacts_campaign_status_idx ON public.campaign_contacts (campaign_id, status)
  INCLUDE (organization_id, prompt_tokens, completion_tokens);
CREATE INDEX contacts_opted_out_idx ON public.contacts (organization_id, id)
  INCLUDE (unsubscribe_requested, reached_status)
  WHERE unsubscribe_requested OR reached_status IN ('unsubscribed', 'bounced', 'complained');
CREATE INDEX contacts_organization_created_idx ON public.contacts (organization_id, created_at DESC);
CREATE INDEX scrape_results_task_status_idx ON public.scrape_results (search_task_id, status);

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
  coalesce(cc.completion_tokens, 0)::bigint AS completion_tokens
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
LEFT JOIN LATERAL (
  SELECT jsonb_object_agg(status, n) AS counts, sum(p) AS prompt_tokens, sum(q) AS completion_tokens FROM (
    SELECT x.status, count(*) AS n, sum(x.prompt_tokens) AS p, sum(x.completion_tokens) AS q
    FROM public.campaign_contacts x WHERE x.campaign_id = c.id GROUP BY x.status) s
) cc ON true
LEFT JOIN LATERAL (
  SELECT jsonb_object_agg(status, n) AS counts FROM (
    SELECT o.status, count(*) AS n FROM public.outreach_flows o WHERE o.campaign_id = c.id GROUP BY o.status) s
) f ON true
LEFT JOIN LATERAL (
  SELECT count(*) AS n FROM public.campaign_unsubscribes x WHERE x.campaign_id = c.id
) u ON true
-- Not lateral: grouped once, and a filter on the campaign or the organization is pushed into it,
-- so the organization's few opted-out contacts are read once (index-only) for all its campaigns.
LEFT JOIN (
  SELECT x.campaign_id, ct.organization_id,
         count(*) FILTER (WHERE ct.unsubscribe_requested) AS unsubscribed,
         count(*) FILTER (WHERE ct.reached_status IN ('bounced', 'complained')) AS bounced
  FROM public.contacts ct JOIN public.campaign_contacts x ON x.contact_id = ct.id
  WHERE ct.unsubscribe_requested OR ct.reached_status IN ('unsubscribed', 'bounced', 'complained')
  GROUP BY x.campaign_id, ct.organization_id
) oo ON oo.campaign_id = c.id AND oo.organization_id = c.organization_id;

REVOKE ALL ON public.campaign_stats FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.campaign_stats TO authenticated;
GRANT ALL ON public.campaign_stats TO service_role;
