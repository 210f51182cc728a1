-- campaign_stats' opted-out figures from the rollup too, so that a read no longer visits every
-- opted-out contact of the organization (docs/DESIGN.md, "Campaign stats").
--
-- unsubscribed_everywhere, bounced_or_complained and complaints count a campaign's enrollments
-- by the state of their contact. Each enrollment now carries a copy of that state
-- (contact_unsubscribe_requested, contact_reached_status), kept by two triggers:
--   * whenever an enrollment is written with a contact or a copy (inserted, its contact_id or its
--     copy updated), the contact's state is read into it, under a share lock on the contact, so
--     a change of the contact committing meanwhile is either seen here or sees this row; a copy
--     written by hand is read again, never kept;
--   * when a contact's state changes, its enrollments are updated with it. That update must see
--     every enrollment committed before it, so it refuses to run in a transaction whose snapshot
--     is older than the statement (REPEATABLE READ or SERIALIZABLE): PostgREST and every
--     function here use READ COMMITTED.
-- Both run on rare paths (enrolling, an opt-out, a reply, a bounce, a complaint), never for a
-- message sent. A bulk load with session_replication_role = replica skips triggers: it must
-- write the copy itself (bench/rls.py does).
-- An enrollment so updated gets a new change stamp, so the existing tally and rollup of
-- campaign_contacts count it by the contact's state as they count it by its own status: exact at
-- every moment, with no second way of counting.

-- 1. The copy, on the enrollment and in its tally and rollup.
ALTER TABLE public.campaign_contacts
  ADD COLUMN contact_unsubscribe_requested boolean NOT NULL DEFAULT false,
  ADD COLUMN contact_reached_status text NOT NULL DEFAULT 'pending';
COMMENT ON COLUMN public.campaign_contacts.contact_unsubscribe_requested IS
  'The contact''s unsubscribe_requested, copied by trigger so the campaign''s figures count it from the rollup.';
COMMENT ON COLUMN public.campaign_contacts.contact_reached_status IS
  'The contact''s reached_status, copied by trigger so the campaign''s figures count it from the rollup.';

ALTER TABLE private.campaign_contact_tally
  ADD COLUMN contact_unsubscribe_requested boolean NOT NULL DEFAULT false,
  ADD COLUMN contact_reached_status text NOT NULL DEFAULT 'pending';
ALTER TABLE private.campaign_contact_rollup
  ADD COLUMN contact_unsubscribe_requested boolean NOT NULL DEFAULT false,
  ADD COLUMN contact_reached_status text NOT NULL DEFAULT 'pending',
  DROP CONSTRAINT campaign_contact_rollup_campaign_id_organization_id_status_key,
  ADD CONSTRAINT campaign_contact_rollup_key
    UNIQUE (campaign_id, organization_id, status, contact_unsubscribe_requested, contact_reached_status);

-- 2. The triggers that keep the copy.
CREATE FUNCTION private.copy_contact_state() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  SELECT ct.unsubscribe_requested, ct.reached_status
  INTO NEW.contact_unsubscribe_requested, NEW.contact_reached_status
  FROM public.contacts ct WHERE ct.id = NEW.contact_id
  FOR SHARE;
  RETURN NEW;
END
$$;
-- Named to fire after campaign_contacts_same_organization (BEFORE triggers run by name): a
-- contact of another organization is refused before it is read or locked.
CREATE TRIGGER campaign_contacts_take_contact_state
  BEFORE INSERT OR UPDATE OF contact_id, contact_unsubscribe_requested, contact_reached_status
  ON public.campaign_contacts
  FOR EACH ROW EXECUTE FUNCTION private.copy_contact_state();

CREATE FUNCTION private.share_contact_state() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'a contact''s state is changed only under READ COMMITTED (its enrollments keep a copy)'
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  UPDATE public.campaign_contacts x
  SET contact_unsubscribe_requested = NEW.unsubscribe_requested, contact_reached_status = NEW.reached_status
  WHERE x.contact_id = NEW.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER contacts_share_state
  AFTER UPDATE OF reached_status, unsubscribe_requested ON public.contacts
  FOR EACH ROW WHEN (NEW.reached_status IS DISTINCT FROM OLD.reached_status
                     OR NEW.unsubscribe_requested IS DISTINCT FROM OLD.unsubscribe_requested)
  EXECUTE FUNCTION private.share_contact_state();

-- Enrollments of contacts whose state is not the default take it now. Their new change stamp
-- puts them among the rows read live until the next refresh tallies them.
UPDATE public.campaign_contacts x
SET contact_unsubscribe_requested = ct.unsubscribe_requested, contact_reached_status = ct.reached_status
FROM public.contacts ct
WHERE ct.id = x.contact_id AND (ct.unsubscribe_requested OR ct.reached_status <> 'pending');

-- 3. The refresh, the same as 20261204000300's with the contact's state in the campaign
-- contacts' tally and rollup.
CREATE OR REPLACE FUNCTION private.refresh_campaign_stats() RETURNS bigint
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
           x.prompt_tokens::bigint AS prompt_tokens, x.completion_tokens::bigint AS completion_tokens,
           x.contact_unsubscribe_requested, x.contact_reached_status
    FROM public.campaign_contacts x
    WHERE x.change_xid >= links_since
  ), before AS (
    SELECT t.* FROM private.campaign_contact_tally t JOIN changed USING (campaign_id, contact_id)
  ), tallied AS (
    INSERT INTO private.campaign_contact_tally AS t
      (campaign_id, contact_id, organization_id, status, prompt_tokens, completion_tokens,
       contact_unsubscribe_requested, contact_reached_status)
    SELECT * FROM changed
    ON CONFLICT (campaign_id, contact_id) DO UPDATE SET organization_id = EXCLUDED.organization_id,
      status = EXCLUDED.status, prompt_tokens = EXCLUDED.prompt_tokens, completion_tokens = EXCLUDED.completion_tokens,
      contact_unsubscribe_requested = EXCLUDED.contact_unsubscribe_requested,
      contact_reached_status = EXCLUDED.contact_reached_status
    RETURNING 1
  ), delta AS (
    SELECT organization_id, campaign_id, status, contact_unsubscribe_requested, contact_reached_status,
           sum(d) AS d, sum(p) AS p, sum(q) AS q
    FROM (SELECT organization_id, campaign_id, status, contact_unsubscribe_requested, contact_reached_status,
                 1 AS d, prompt_tokens AS p, completion_tokens AS q FROM changed
          UNION ALL
          SELECT organization_id, campaign_id, status, contact_unsubscribe_requested, contact_reached_status,
                 -1, -prompt_tokens, -completion_tokens FROM before) x
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 OR sum(p) <> 0 OR sum(q) <> 0
  ), rolled_up AS (
    INSERT INTO private.campaign_contact_rollup AS r
      (organization_id, campaign_id, status, contact_unsubscribe_requested, contact_reached_status,
       n, prompt_tokens, completion_tokens)
    SELECT * FROM delta
    ON CONFLICT (campaign_id, organization_id, status, contact_unsubscribe_requested, contact_reached_status)
    DO UPDATE SET n = r.n + EXCLUDED.n,
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

-- A deleted enrollment leaves the rollup under the state it was tallied with.
CREATE OR REPLACE FUNCTION private.forget_tallied_campaign_contact() RETURNS trigger
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
  WHERE r.campaign_id = g.campaign_id AND r.organization_id = g.organization_id AND r.status = g.status
    AND r.contact_unsubscribe_requested = g.contact_unsubscribe_requested
    AND r.contact_reached_status = g.contact_reached_status;
  RETURN NULL;
END
$$;

-- 4. The campaign contacts changed since the watermark, with their contact's state.
DROP VIEW public.campaign_stats;
DROP FUNCTION private.campaign_contact_changes();
CREATE FUNCTION private.campaign_contact_changes()
RETURNS TABLE (organization_id uuid, campaign_id uuid, status text, contact_unsubscribe_requested boolean,
               contact_reached_status text, n bigint, prompt_tokens bigint, completion_tokens bigint)
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  since xid8 := (SELECT w.xid FROM private.stats_watermarks w WHERE w.source = 'campaign_contacts');
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT x.organization_id, x.campaign_id, x.status, x.contact_unsubscribe_requested, x.contact_reached_status,
           1::bigint, x.prompt_tokens::bigint, x.completion_tokens::bigint
    FROM public.campaign_contacts x WHERE x.change_xid >= %1$L::xid8
    UNION ALL
    SELECT x.organization_id, x.campaign_id, t.status, t.contact_unsubscribe_requested, t.contact_reached_status,
           -1::bigint, -t.prompt_tokens, -t.completion_tokens
    FROM public.campaign_contacts x
    CROSS JOIN LATERAL (SELECT t.status, t.contact_unsubscribe_requested, t.contact_reached_status,
                               t.prompt_tokens, t.completion_tokens
                        FROM private.campaign_contact_tally t
                        WHERE t.campaign_id = x.campaign_id AND t.contact_id = x.contact_id LIMIT 1) t
    WHERE x.change_xid >= %1$L::xid8
  $q$, since);
END
$$;

-- A campaign's own unsubscribes, counted per campaign: with organization_id in the index, a
-- member's count (filtered by it) is index-only, as the owner's is (at 10 million messages,
-- 0.06 ms a campaign instead of 0.09).
CREATE INDEX campaign_unsubscribes_campaign_idx ON public.campaign_unsubscribes (campaign_id) INCLUDE (organization_id);

-- 5. campaign_stats: the columns of 20261204001000 in the same order; the opted-out figures
-- now come from the campaign contacts' rollup.
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
  coalesce(cc.unsubscribed, 0) AS unsubscribed_everywhere,
  coalesce(cc.bounced, 0) AS bounced_or_complained,
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
  coalesce(cc.complained, 0) AS complaints,
  CASE WHEN coalesce(f.first_sent, 0) > 0 THEN round(coalesce(cc.complained, 0)::numeric / f.first_sent, 5) END
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
         sum(p) AS prompt_tokens, sum(q) AS completion_tokens,
         sum(unsubscribed)::bigint AS unsubscribed, sum(bounced)::bigint AS bounced,
         sum(complained)::bigint AS complained
  FROM (
    SELECT campaign_id, organization_id, status, sum(n) AS n, sum(p) AS p, sum(q) AS q,
           sum(n) FILTER (WHERE contact_unsubscribe_requested) AS unsubscribed,
           sum(n) FILTER (WHERE contact_reached_status IN ('bounced', 'complained')) AS bounced,
           sum(n) FILTER (WHERE contact_reached_status = 'complained') AS complained
    FROM (
      SELECT r.campaign_id, r.organization_id, r.status, r.contact_unsubscribe_requested, r.contact_reached_status,
             r.n, r.prompt_tokens AS p, r.completion_tokens AS q
      FROM private.campaign_contact_rollup r
      UNION ALL
      SELECT d.campaign_id, d.organization_id, d.status, d.contact_unsubscribe_requested, d.contact_reached_status,
             d.n, d.prompt_tokens, d.completion_tokens
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

-- 6. Grants: as before for the view and the function; the triggers' functions are nobody's to call.
REVOKE ALL ON FUNCTION private.campaign_contact_changes(), private.copy_contact_state(),
  private.share_contact_state() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION private.campaign_contact_changes() TO authenticated, service_role;
REVOKE ALL ON public.campaign_stats FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.campaign_stats TO authenticated;
GRANT ALL ON public.campaign_stats TO service_role;
