-- Counts per campaign, stage and status. security_invoker: a member sees the stats of their
-- organization's campaigns only, through the tables' own row level security.
CREATE VIEW public.campaign_stats WITH (security_invoker = true) AS
SELECT
  c.id AS campaign_id,
  c.organization_id,
  c.campaign_name,
  c.status,
  coalesce((SELECT jsonb_object_agg(status, n) FROM (
     SELECT t.status, count(*) AS n FROM public.search_tasks t WHERE t.campaign_id = c.id GROUP BY t.status) s),
   '{}') AS search_tasks,
  coalesce((SELECT jsonb_object_agg(status, n) FROM (
     SELECT r.status, count(*) AS n FROM public.scrape_results r
     JOIN public.search_tasks t ON t.id = r.search_task_id WHERE t.campaign_id = c.id GROUP BY r.status) s),
   '{}') AS scrape_results,
  coalesce((SELECT jsonb_object_agg(status, n) FROM (
     SELECT cc.status, count(*) AS n FROM public.campaign_contacts cc WHERE cc.campaign_id = c.id
     GROUP BY cc.status) s), '{}') AS campaign_contacts,
  coalesce((SELECT jsonb_object_agg(status, n) FROM (
     SELECT f.status, count(*) AS n FROM public.outreach_flows f WHERE f.campaign_id = c.id GROUP BY f.status) s),
   '{}') AS outreach_flows,
  (SELECT count(*) FROM public.campaign_unsubscribes u WHERE u.campaign_id = c.id) AS campaign_unsubscribes,
  (SELECT count(*) FROM public.campaign_contacts cc JOIN public.contacts ct ON ct.id = cc.contact_id
   WHERE cc.campaign_id = c.id AND ct.unsubscribe_requested) AS unsubscribed_everywhere,
  (SELECT count(*) FROM public.campaign_contacts cc JOIN public.contacts ct ON ct.id = cc.contact_id
   WHERE cc.campaign_id = c.id AND ct.reached_status IN ('bounced', 'complained')) AS bounced_or_complained,
  (SELECT coalesce(sum(cc.prompt_tokens), 0) FROM public.campaign_contacts cc WHERE cc.campaign_id = c.id)
    AS prompt_tokens,
  (SELECT coalesce(sum(cc.completion_tokens), 0) FROM public.campaign_contacts cc WHERE cc.campaign_id = c.id)
    AS completion_tokens
FROM public.campaigns c;

REVOKE ALL ON public.campaign_stats FROM anon;
GRANT SELECT ON public.campaign_stats TO authenticated, service_role;
