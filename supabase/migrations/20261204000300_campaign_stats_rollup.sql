-- campaign_stats without counting every row, and still exact: equal to a count(*) at any moment.
--
-- The two large tables (outreach_flows, campaign_contacts) are counted by a rollup that the
-- scheduler refreshes from the rows changed since its watermark, plus, at read time, the rows
-- changed since. send_due writes no counter: its rows only carry the id of the transaction
-- that last wrote them, set by the trigger that already stamps updated_at.
--
-- Why exact (docs/DESIGN.md, "Campaign stats"): each row's change_xid is the transaction that
-- wrote its current version. A refresh remembers each row as it counted it (the tally) and the
-- oldest transaction still running when it read (its watermark, the snapshot's xmin). A row
-- version the refresh did not see was written by a transaction running then or later, so its
-- change_xid is at or above the watermark; a row below it is in the tally as it is now. A read
-- therefore takes the rollup (the tally's sums), adds every row at or above the watermark as it
-- is now and takes away its tallied self: each row counted once, by its current state. A
-- transaction id rather than updated_at, because now() is when a transaction began, not when it
-- committed: a long transaction could commit rows stamped before a watermark already passed.

-- 1. The change stamp: on insert by default and the trigger, on every update by the trigger.
-- Rows that exist now keep NULL: they are tallied below, in this transaction.
ALTER TABLE public.outreach_flows ADD COLUMN change_xid xid8;
ALTER TABLE public.outreach_flows ALTER COLUMN change_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE public.campaign_contacts ADD COLUMN change_xid xid8;
ALTER TABLE public.campaign_contacts ALTER COLUMN change_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX outreach_flows_change_idx ON public.outreach_flows (change_xid);
CREATE INDEX campaign_contacts_change_idx ON public.campaign_contacts (change_xid);

-- No SET search_path: it would cost every update a configuration change and back, and the
-- function names nothing outside pg_catalog, which is always searched first.
CREATE FUNCTION private.stamp_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id();
  IF TG_OP = 'UPDATE' THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER outreach_flows_updated_at ON public.outreach_flows;
DROP TRIGGER campaign_contacts_updated_at ON public.campaign_contacts;
CREATE TRIGGER outreach_flows_stamp_change BEFORE INSERT OR UPDATE ON public.outreach_flows
  FOR EACH ROW EXECUTE FUNCTION private.stamp_change();
CREATE TRIGGER campaign_contacts_stamp_change BEFORE INSERT OR UPDATE ON public.campaign_contacts
  FOR EACH ROW EXECUTE FUNCTION private.stamp_change();

-- 2. The tallies (each row as last counted) and the rollups (their sums). The flows' rollup is
-- per campaign, step, mailbox and status: the console's per-step and per-mailbox figures too.
CREATE TABLE private.flow_tally (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  sequence_order integer NOT NULL,
  mailbox_id uuid,
  status text NOT NULL
);
CREATE TABLE private.flow_rollup (
  organization_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  sequence_order integer NOT NULL,
  mailbox_id uuid,
  status text NOT NULL,
  n bigint NOT NULL
);
CREATE UNIQUE INDEX flow_rollup_key ON private.flow_rollup
  (campaign_id, organization_id, sequence_order, mailbox_id, status) NULLS NOT DISTINCT;

CREATE TABLE private.campaign_contact_tally (
  campaign_id uuid NOT NULL,
  contact_id uuid NOT NULL,
  organization_id uuid NOT NULL,
  status text NOT NULL,
  prompt_tokens bigint NOT NULL,
  completion_tokens bigint NOT NULL,
  PRIMARY KEY (campaign_id, contact_id)
);
CREATE TABLE private.campaign_contact_rollup (
  organization_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  status text NOT NULL,
  n bigint NOT NULL,
  prompt_tokens bigint NOT NULL,
  completion_tokens bigint NOT NULL,
  UNIQUE (campaign_id, organization_id, status)
);

-- Up to where each rollup has read: rows with change_xid at or above it are read live.
CREATE TABLE private.stats_watermarks (
  source text PRIMARY KEY,
  xid xid8 NOT NULL
);

-- 3. The first tally: every row as it is now (the tables are locked by this migration).
INSERT INTO private.flow_tally (id, organization_id, campaign_id, sequence_order, mailbox_id, status)
SELECT id, organization_id, campaign_id, sequence_order, mailbox_id, status FROM public.outreach_flows;
INSERT INTO private.flow_rollup (organization_id, campaign_id, sequence_order, mailbox_id, status, n)
SELECT organization_id, campaign_id, sequence_order, mailbox_id, status, count(*)
FROM private.flow_tally GROUP BY 1, 2, 3, 4, 5;
INSERT INTO private.campaign_contact_tally
  (campaign_id, contact_id, organization_id, status, prompt_tokens, completion_tokens)
SELECT campaign_id, contact_id, organization_id, status, prompt_tokens, completion_tokens
FROM public.campaign_contacts;
INSERT INTO private.campaign_contact_rollup
  (organization_id, campaign_id, status, n, prompt_tokens, completion_tokens)
SELECT organization_id, campaign_id, status, count(*), sum(prompt_tokens), sum(completion_tokens)
FROM private.campaign_contact_tally GROUP BY 1, 2, 3;
INSERT INTO private.stats_watermarks (source, xid)
VALUES ('outreach_flows', pg_snapshot_xmin(pg_current_snapshot())),
       ('campaign_contacts', pg_snapshot_xmin(pg_current_snapshot()));

-- 4. The refresh, called by the scheduler (sync_mailboxes, after each run). One at a time; a
-- deletion of a tallied row waits for it (the same lock). Returns the rows it read.
CREATE FUNCTION private.refresh_campaign_stats() RETURNS bigint
LANGUAGE plpgsql SET search_path = '' AS $$
DECLARE
  upto xid8;
  flows_since xid8;
  links_since xid8;
  flows bigint;
  links bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7046311228);
  -- Read into variables: the statements below are then planned with their values (a handful of
  -- changed rows, read by index), not as an unknown expected to match a third of the table.
  SELECT w.xid INTO flows_since FROM private.stats_watermarks w WHERE w.source = 'outreach_flows';
  SELECT w.xid INTO links_since FROM private.stats_watermarks w WHERE w.source = 'campaign_contacts';
  -- Taken before the statements below read: their snapshots are later, so every version they
  -- miss was written at or above it.
  upto := pg_snapshot_xmin(pg_current_snapshot());

  WITH changed AS MATERIALIZED (
    SELECT o.id, o.organization_id, o.campaign_id, o.sequence_order, o.mailbox_id, o.status
    FROM public.outreach_flows o
    WHERE o.change_xid >= flows_since
  ), before AS (
    SELECT t.* FROM private.flow_tally t JOIN changed USING (id)
  ), tallied AS (
    INSERT INTO private.flow_tally AS t (id, organization_id, campaign_id, sequence_order, mailbox_id, status)
    SELECT * FROM changed
    ON CONFLICT (id) DO UPDATE SET organization_id = EXCLUDED.organization_id, campaign_id = EXCLUDED.campaign_id,
      sequence_order = EXCLUDED.sequence_order, mailbox_id = EXCLUDED.mailbox_id, status = EXCLUDED.status
    RETURNING 1
  ), delta AS (
    SELECT organization_id, campaign_id, sequence_order, mailbox_id, status, sum(d) AS d
    FROM (SELECT organization_id, campaign_id, sequence_order, mailbox_id, status, 1 AS d FROM changed
          UNION ALL
          SELECT organization_id, campaign_id, sequence_order, mailbox_id, status, -1 FROM before) x
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0
  ), rolled_up AS (
    INSERT INTO private.flow_rollup AS r (organization_id, campaign_id, sequence_order, mailbox_id, status, n)
    SELECT * FROM delta
    ON CONFLICT (campaign_id, organization_id, sequence_order, mailbox_id, status) DO UPDATE SET n = r.n + EXCLUDED.n
    RETURNING 1
  )
  SELECT count(*) FROM tallied INTO flows;  -- every data-modifying part runs, read or not

  WITH changed AS MATERIALIZED (
    SELECT x.campaign_id, x.contact_id, x.organization_id, x.status,
           x.prompt_tokens::bigint AS prompt_tokens, x.completion_tokens::bigint AS completion_tokens
    FROM public.campaign_contacts x
    WHERE x.change_xid >= links_since
  ), before AS (
    SELECT t.* FROM private.campaign_contact_tally t JOIN changed USING (campaign_id, contact_id)
  ), tallied AS (
    INSERT INTO private.campaign_contact_tally AS t
      (campaign_id, contact_id, organization_id, status, prompt_tokens, completion_tokens)
    SELECT * FROM changed
    ON CONFLICT (campaign_id, contact_id) DO UPDATE SET organization_id = EXCLUDED.organization_id,
      status = EXCLUDED.status, prompt_tokens = EXCLUDED.prompt_tokens, completion_tokens = EXCLUDED.completion_tokens
    RETURNING 1
  ), delta AS (
    SELECT organization_id, campaign_id, status, sum(d) AS d, sum(p) AS p, sum(q) AS q
    FROM (SELECT organization_id, campaign_id, status, 1 AS d, prompt_tokens AS p, completion_tokens AS q FROM changed
          UNION ALL
          SELECT organization_id, campaign_id, status, -1, -prompt_tokens, -completion_tokens FROM before) x
    GROUP BY 1, 2, 3 HAVING sum(d) <> 0 OR sum(p) <> 0 OR sum(q) <> 0
  ), rolled_up AS (
    INSERT INTO private.campaign_contact_rollup AS r
      (organization_id, campaign_id, status, n, prompt_tokens, completion_tokens)
    SELECT * FROM delta
    ON CONFLICT (campaign_id, organization_id, status) DO UPDATE SET n = r.n + EXCLUDED.n,
      prompt_tokens = r.prompt_tokens + EXCLUDED.prompt_tokens,
      completion_tokens = r.completion_tokens + EXCLUDED.completion_tokens
    RETURNING 1
  )
  SELECT count(*) FROM tallied INTO links;

  DELETE FROM private.flow_rollup WHERE n = 0;
  DELETE FROM private.campaign_contact_rollup WHERE n = 0;
  UPDATE private.stats_watermarks SET xid = upto;
  RETURN flows + links;
END
$$;

-- 5. A deleted row, or one moved to another campaign or organization (which only the operator
-- could do), leaves the tally and the rollup in the same transaction: a tallied row is always
-- tallied under its own campaign and organization, which lets reads filter the rows changed
-- since on the row's campaign instead of the tally's.
CREATE FUNCTION private.forget_tallied_flow() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND (OLD.id, OLD.campaign_id, OLD.organization_id) = (NEW.id, NEW.campaign_id, NEW.organization_id) THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(7046311228);
  WITH gone AS (DELETE FROM private.flow_tally t WHERE t.id = OLD.id RETURNING t.*)
  UPDATE private.flow_rollup r SET n = r.n - 1
  FROM gone g
  WHERE r.campaign_id = g.campaign_id AND r.organization_id = g.organization_id
    AND r.sequence_order = g.sequence_order AND r.mailbox_id IS NOT DISTINCT FROM g.mailbox_id
    AND r.status = g.status;
  RETURN NULL;
END
$$;
CREATE TRIGGER outreach_flows_forget_tallied
  AFTER DELETE OR UPDATE OF id, campaign_id, organization_id ON public.outreach_flows
  FOR EACH ROW EXECUTE FUNCTION private.forget_tallied_flow();

CREATE FUNCTION private.forget_tallied_campaign_contact() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND (OLD.campaign_id, OLD.contact_id, OLD.organization_id) = (NEW.campaign_id, NEW.contact_id, NEW.organization_id) THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(7046311228);
  WITH gone AS (
    DELETE FROM private.campaign_contact_tally t
    WHERE t.campaign_id = OLD.campaign_id AND t.contact_id = OLD.contact_id RETURNING t.*)
  UPDATE private.campaign_contact_rollup r
  SET n = r.n - 1, prompt_tokens = r.prompt_tokens - g.prompt_tokens,
      completion_tokens = r.completion_tokens - g.completion_tokens
  FROM gone g
  WHERE r.campaign_id = g.campaign_id AND r.organization_id = g.organization_id AND r.status = g.status;
  RETURN NULL;
END
$$;
CREATE TRIGGER campaign_contacts_forget_tallied
  AFTER DELETE OR UPDATE OF campaign_id, contact_id, organization_id ON public.campaign_contacts
  FOR EACH ROW EXECUTE FUNCTION private.forget_tallied_campaign_contact();

-- 6. What members read, exact: the rollup, plus each row changed since as it is now, minus its
-- tallied self. The rows changed since are read by a function so that their query is planned
-- with the watermark's value: a view would compare with an unknown value and the planner would
-- expect a third of the table. STABLE: it reads in the calling statement's snapshot, the same
-- as the rollup's. SECURITY INVOKER: the tables' policies apply to the caller.
CREATE FUNCTION private.flow_changes()
RETURNS TABLE (organization_id uuid, campaign_id uuid, sequence_order integer, mailbox_id uuid, status text, n bigint)
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  since xid8 := (SELECT w.xid FROM private.stats_watermarks w WHERE w.source = 'outreach_flows');
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT o.organization_id, o.campaign_id, o.sequence_order, o.mailbox_id, o.status, 1::bigint
    FROM public.outreach_flows o WHERE o.change_xid >= %1$L::xid8
    UNION ALL
    SELECT o.organization_id, o.campaign_id, t.sequence_order, t.mailbox_id, t.status, -1::bigint
    FROM public.outreach_flows o
    CROSS JOIN LATERAL (SELECT t.sequence_order, t.mailbox_id, t.status FROM private.flow_tally t
                        WHERE t.id = o.id LIMIT 1) t  -- one index lookup per changed row
    WHERE o.change_xid >= %1$L::xid8
  $q$, since);
END
$$;

CREATE FUNCTION private.campaign_contact_changes()
RETURNS TABLE (organization_id uuid, campaign_id uuid, status text, n bigint, prompt_tokens bigint, completion_tokens bigint)
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  since xid8 := (SELECT w.xid FROM private.stats_watermarks w WHERE w.source = 'campaign_contacts');
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT x.organization_id, x.campaign_id, x.status, 1::bigint, x.prompt_tokens::bigint, x.completion_tokens::bigint
    FROM public.campaign_contacts x WHERE x.change_xid >= %1$L::xid8
    UNION ALL
    SELECT x.organization_id, x.campaign_id, t.status, -1::bigint, -t.prompt_tokens, -t.completion_tokens
    FROM public.campaign_contacts x
    CROSS JOIN LATERAL (SELECT t.status, t.prompt_tokens, t.completion_tokens FROM private.campaign_contact_tally t
                        WHERE t.campaign_id = x.campaign_id AND t.contact_id = x.contact_id LIMIT 1) t
    WHERE x.change_xid >= %1$L::xid8
  $q$, since);
END
$$;

-- campaign_flow_counts is also what the console's per-step and per-mailbox figures read.
CREATE VIEW public.campaign_flow_counts WITH (security_invoker = true) AS
SELECT organization_id, campaign_id, sequence_order, mailbox_id, status, sum(n)::bigint AS n
FROM (
  SELECT r.organization_id, r.campaign_id, r.sequence_order, r.mailbox_id, r.status, r.n
  FROM private.flow_rollup r
  UNION ALL
  SELECT * FROM private.flow_changes()
) counted
GROUP BY organization_id, campaign_id, sequence_order, mailbox_id, status
HAVING sum(n) <> 0;

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
  c.paused_reason
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
  SELECT campaign_id, organization_id, jsonb_object_agg(status, n) AS counts FROM (
    SELECT campaign_id, organization_id, status, sum(n) AS n FROM public.campaign_flow_counts
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
         count(*) FILTER (WHERE ct.reached_status IN ('bounced', 'complained')) AS bounced
  FROM public.contacts ct
  CROSS JOIN LATERAL (SELECT x.campaign_id FROM public.campaign_contacts x WHERE x.contact_id = ct.id OFFSET 0) x
  WHERE ct.unsubscribe_requested OR ct.reached_status IN ('unsubscribed', 'bounced', 'complained')
  GROUP BY x.campaign_id, ct.organization_id
) oo ON oo.campaign_id = c.id AND oo.organization_id = c.organization_id
LEFT JOIN LATERAL (
  SELECT count(DISTINCT m.contact_id) AS replied FROM public.inbound_messages m
  WHERE m.campaign_id = c.id AND m.kind IN ('reply', 'stop_request')
) im ON true;

-- 7. Grants and row level security. Members read the counts of their organizations through
-- the two views (security_invoker: the tables' policies apply); nobody but the owner writes.
ALTER TABLE private.flow_tally ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.flow_rollup ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.campaign_contact_tally ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.campaign_contact_rollup ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.stats_watermarks ENABLE ROW LEVEL SECURITY;
CREATE POLICY "members read their organization's tallied messages" ON private.flow_tally
  FOR SELECT TO authenticated USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members read their organization's message counts" ON private.flow_rollup
  FOR SELECT TO authenticated USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members read their organization's tallied campaign contacts" ON private.campaign_contact_tally
  FOR SELECT TO authenticated USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members read their organization's campaign contact counts" ON private.campaign_contact_rollup
  FOR SELECT TO authenticated USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members read how far the counts have been rolled up" ON private.stats_watermarks
  FOR SELECT TO authenticated USING (true);

REVOKE ALL ON private.flow_tally, private.flow_rollup, private.campaign_contact_tally,
  private.campaign_contact_rollup, private.stats_watermarks FROM PUBLIC, anon, authenticated;
GRANT SELECT ON private.flow_tally, private.flow_rollup, private.campaign_contact_tally,
  private.campaign_contact_rollup, private.stats_watermarks TO authenticated, service_role;
GRANT USAGE ON SCHEMA private TO service_role;
REVOKE ALL ON FUNCTION private.stamp_change(), private.refresh_campaign_stats(), private.forget_tallied_flow(),
  private.forget_tallied_campaign_contact(), private.flow_changes(), private.campaign_contact_changes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION private.flow_changes(), private.campaign_contact_changes() TO authenticated, service_role;

REVOKE ALL ON public.campaign_stats, public.campaign_flow_counts FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.campaign_stats, public.campaign_flow_counts TO authenticated;
GRANT ALL ON public.campaign_stats, public.campaign_flow_counts TO service_role;
