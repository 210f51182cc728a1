-- Members through Supabase's Data API: explicit, least-privilege grants (since 2026-10-30
-- Supabase grants nothing on new tables by itself), row level security that scales (the
-- user's organizations computed once per statement, organization_id carried on every child
-- table), and the rules the Data API cannot express with grants alone.

-- 1. organization_id on the child tables, so a policy never joins per row. Filled by triggers
-- from the parent; nobody writes it directly.
ALTER TABLE public.search_tasks ADD COLUMN organization_id uuid REFERENCES public.organizations (id);
ALTER TABLE public.scrape_results ADD COLUMN organization_id uuid REFERENCES public.organizations (id);
ALTER TABLE public.campaign_contacts ADD COLUMN organization_id uuid REFERENCES public.organizations (id);
ALTER TABLE public.outreach_flows ADD COLUMN organization_id uuid REFERENCES public.organizations (id);
ALTER TABLE public.campaign_unsubscribes ADD COLUMN organization_id uuid REFERENCES public.organizations (id);

UPDATE public.search_tasks t SET organization_id = c.organization_id FROM public.campaigns c WHERE c.id = t.campaign_id;
UPDATE public.scrape_results r SET organization_id = t.organization_id FROM public.search_tasks t WHERE t.id = r.search_task_id;
UPDATE public.campaign_contacts x SET organization_id = c.organization_id FROM public.campaigns c WHERE c.id = x.campaign_id;
UPDATE public.outreach_flows x SET organization_id = c.organization_id FROM public.campaigns c WHERE c.id = x.campaign_id;
UPDATE public.campaign_unsubscribes x SET organization_id = c.organization_id FROM public.campaigns c WHERE c.id = x.campaign_id;

ALTER TABLE public.search_tasks ALTER COLUMN organization_id SET NOT NULL;
ALTER TABLE public.scrape_results ALTER COLUMN organization_id SET NOT NULL;
ALTER TABLE public.campaign_contacts ALTER COLUMN organization_id SET NOT NULL;
ALTER TABLE public.outreach_flows ALTER COLUMN organization_id SET NOT NULL;
ALTER TABLE public.campaign_unsubscribes ALTER COLUMN organization_id SET NOT NULL;

CREATE INDEX search_tasks_organization_idx ON public.search_tasks (organization_id);
CREATE INDEX scrape_results_organization_idx ON public.scrape_results (organization_id);
CREATE INDEX campaign_contacts_organization_idx ON public.campaign_contacts (organization_id);
CREATE INDEX outreach_flows_organization_idx ON public.outreach_flows (organization_id);
CREATE INDEX campaign_unsubscribes_organization_idx ON public.campaign_unsubscribes (organization_id);

-- The linking tables: one organization for campaign and contact (the seed's rule), and theirs.
CREATE OR REPLACE FUNCTION public.ensure_same_organization() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  campaign_org uuid;
  contact_org uuid;
BEGIN
  SELECT organization_id INTO campaign_org FROM public.campaigns WHERE id = NEW.campaign_id;
  SELECT organization_id INTO contact_org FROM public.contacts WHERE id = NEW.contact_id;
  IF campaign_org IS DISTINCT FROM contact_org THEN
    RAISE EXCEPTION 'campaign % and contact % belong to different organizations',
      NEW.campaign_id, NEW.contact_id
      USING ERRCODE = 'check_violation';
  END IF;
  NEW.organization_id := campaign_org;
  RETURN NEW;
END
$$;
DROP TRIGGER campaign_contacts_same_organization ON public.campaign_contacts;
DROP TRIGGER outreach_flows_same_organization ON public.outreach_flows;
DROP TRIGGER campaign_unsubscribes_same_organization ON public.campaign_unsubscribes;
CREATE TRIGGER campaign_contacts_same_organization
  BEFORE INSERT OR UPDATE OF campaign_id, contact_id, organization_id ON public.campaign_contacts
  FOR EACH ROW EXECUTE FUNCTION public.ensure_same_organization();
CREATE TRIGGER outreach_flows_same_organization
  BEFORE INSERT OR UPDATE OF campaign_id, contact_id, organization_id ON public.outreach_flows
  FOR EACH ROW EXECUTE FUNCTION public.ensure_same_organization();
CREATE TRIGGER campaign_unsubscribes_same_organization
  BEFORE INSERT OR UPDATE OF campaign_id, contact_id, organization_id ON public.campaign_unsubscribes
  FOR EACH ROW EXECUTE FUNCTION public.ensure_same_organization();

CREATE OR REPLACE FUNCTION private.search_task_organization() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  SELECT organization_id INTO NEW.organization_id FROM public.campaigns WHERE id = NEW.campaign_id;
  RETURN NEW;
END
$$;
CREATE TRIGGER search_tasks_organization
  BEFORE INSERT OR UPDATE OF campaign_id, organization_id ON public.search_tasks
  FOR EACH ROW EXECUTE FUNCTION private.search_task_organization();

CREATE OR REPLACE FUNCTION private.scrape_result_organization() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  SELECT organization_id INTO NEW.organization_id FROM public.search_tasks WHERE id = NEW.search_task_id;
  RETURN NEW;
END
$$;
CREATE TRIGGER scrape_results_organization
  BEFORE INSERT OR UPDATE OF search_task_id, organization_id ON public.scrape_results
  FOR EACH ROW EXECUTE FUNCTION private.scrape_result_organization();

-- A contact's source page is one of its own organization's scrape results: its site name and
-- text flow into the prompt and the subject.
CREATE OR REPLACE FUNCTION private.contact_source_same_organization() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  IF NEW.source_scrape_id IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM public.scrape_results r
       WHERE r.id = NEW.source_scrape_id AND r.organization_id = NEW.organization_id) THEN
    RAISE EXCEPTION 'scrape result % belongs to another organization', NEW.source_scrape_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER contacts_source_same_organization
  BEFORE INSERT OR UPDATE OF source_scrape_id, organization_id ON public.contacts
  FOR EACH ROW EXECUTE FUNCTION private.contact_source_same_organization();

-- 2. Opt-outs are final, for every role: an unsubscribe, a bounce or a complaint is never
-- lifted (only a new, explicit consent could, and there is no such path).
CREATE OR REPLACE FUNCTION private.keep_opt_outs() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF OLD.unsubscribe_requested AND NOT NEW.unsubscribe_requested THEN
    RAISE EXCEPTION 'an unsubscribe is final' USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.reached_status IN ('unsubscribed', 'bounced', 'complained')
     AND NEW.reached_status NOT IN ('unsubscribed', 'bounced', 'complained') THEN
    RAISE EXCEPTION 'a contact who unsubscribed, bounced or complained stays so'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER contacts_keep_opt_outs
  BEFORE UPDATE OF unsubscribe_requested, reached_status ON public.contacts
  FOR EACH ROW EXECUTE FUNCTION private.keep_opt_outs();

-- A completed campaign sends nothing more: what is left is canceled (paused only waits).
CREATE OR REPLACE FUNCTION private.cancel_completed_campaign() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  UPDATE public.outreach_flows
  SET status = 'canceled', status_reason = 'canceled: the campaign is completed'
  WHERE campaign_id = NEW.id AND status IN ('draft', 'scheduled');
  RETURN NULL;
END
$$;
CREATE TRIGGER campaigns_cancel_when_completed
  AFTER UPDATE OF status ON public.campaigns
  FOR EACH ROW WHEN (NEW.status = 'completed' AND OLD.status IS DISTINCT FROM 'completed')
  EXECUTE FUNCTION private.cancel_completed_campaign();

-- Through the Data API an organization's daily cap stays within the documented maximum; the
-- operator (service_role, the owner) may set more.
CREATE OR REPLACE FUNCTION private.limit_daily_send_cap() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF current_user IN ('authenticated', 'anon') AND NEW.daily_send_cap > 10000 THEN
    RAISE EXCEPTION 'daily_send_cap is at most 10000 (ask the operator for more)'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER organizations_limit_daily_send_cap
  BEFORE UPDATE OF daily_send_cap ON public.organizations
  FOR EACH ROW EXECUTE FUNCTION private.limit_daily_send_cap();

-- 3. Row level security on the user's organizations, computed once per statement: policies
-- compare a column with `ANY ((SELECT private.…()))`, which the planner runs as an init plan
-- instead of calling a function for every row (Supabase's RLS performance guidance).
-- PL/pgSQL rather than SQL: a SQL function that cannot be inlined (SECURITY DEFINER) is planned
-- again at every call, and each table a statement reads calls it once; PL/pgSQL keeps its plan.
CREATE OR REPLACE FUNCTION private.user_organizations() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(m.organization_id), '{}')
          FROM public.organization_members m WHERE m.user_id = auth.uid());
END
$$;
CREATE OR REPLACE FUNCTION private.user_admin_organizations() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(m.organization_id), '{}')
          FROM public.organization_members m WHERE m.user_id = auth.uid() AND m.role = 'admin');
END
$$;
CREATE INDEX IF NOT EXISTS organization_members_user_idx ON public.organization_members (user_id, organization_id);

DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT policyname, tablename FROM pg_policies WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP POLICY %I ON public.%I', p.policyname, p.tablename);
  END LOOP;
END $$;

CREATE POLICY organizations_select ON public.organizations FOR SELECT TO authenticated
  USING (id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY organizations_update ON public.organizations FOR UPDATE TO authenticated
  USING (id = ANY ((SELECT private.user_admin_organizations())::uuid[]))
  WITH CHECK (id = ANY ((SELECT private.user_admin_organizations())::uuid[]));

CREATE POLICY organization_members_select ON public.organization_members FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY organization_members_insert ON public.organization_members FOR INSERT TO authenticated
  WITH CHECK (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]));
CREATE POLICY organization_members_update ON public.organization_members FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]))
  WITH CHECK (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]));
CREATE POLICY organization_members_delete ON public.organization_members FOR DELETE TO authenticated
  USING (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]));

CREATE POLICY campaigns_select ON public.campaigns FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY campaigns_update ON public.campaigns FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]))
  WITH CHECK (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]));

CREATE POLICY search_tasks_select ON public.search_tasks FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY scrape_results_select ON public.scrape_results FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));

CREATE POLICY contacts_select ON public.contacts FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY contacts_insert ON public.contacts FOR INSERT TO authenticated
  WITH CHECK (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY contacts_update ON public.contacts FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]))
  WITH CHECK (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));

CREATE POLICY campaign_contacts_select ON public.campaign_contacts FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY campaign_contacts_insert ON public.campaign_contacts FOR INSERT TO authenticated
  WITH CHECK ((SELECT c.organization_id FROM public.campaigns c WHERE c.id = campaign_id)
              = ANY ((SELECT private.user_organizations())::uuid[]));

-- Review before send: members approve (draft -> scheduled), edit and cancel waiting messages.
CREATE POLICY outreach_flows_select ON public.outreach_flows FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY outreach_flows_update ON public.outreach_flows FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]) AND status IN ('draft', 'scheduled'))
  WITH CHECK (organization_id = ANY ((SELECT private.user_organizations())::uuid[])
              AND status IN ('draft', 'scheduled', 'canceled'));

CREATE POLICY campaign_unsubscribes_select ON public.campaign_unsubscribes FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY campaign_unsubscribes_insert ON public.campaign_unsubscribes FOR INSERT TO authenticated
  WITH CHECK ((SELECT c.organization_id FROM public.campaigns c WHERE c.id = campaign_id)
              = ANY ((SELECT private.user_organizations())::uuid[]));

CREATE POLICY sender_domains_select ON public.sender_domains FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));

-- The per-row helpers the old policies called answered through RPC for any organization's ids.
DROP FUNCTION public.is_org_member(uuid);
DROP FUNCTION public.is_org_admin(uuid);
DROP FUNCTION public.campaign_org(uuid);
DROP FUNCTION public.search_task_org(uuid);
DROP FUNCTION public.contact_org(uuid);

-- 4. Grants. Nothing for anon; for authenticated exactly what the policies allow, with column
-- lists where members change some columns only; service_role (the operator, Supabase's
-- dashboard) everything. The functions connect as the tables' owner.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA private FROM PUBLIC, anon, authenticated, service_role;
GRANT USAGE ON SCHEMA private TO authenticated;
GRANT EXECUTE ON FUNCTION private.user_organizations(), private.user_admin_organizations() TO authenticated;

GRANT ALL ON ALL TABLES IN SCHEMA public TO service_role;

GRANT SELECT ON public.organizations, public.organization_members, public.campaigns, public.search_tasks,
  public.scrape_results, public.contacts, public.campaign_contacts, public.outreach_flows,
  public.campaign_unsubscribes, public.sender_domains, public.campaign_stats TO authenticated;
GRANT UPDATE (org_name, daily_send_cap) ON public.organizations TO authenticated;
GRANT INSERT (organization_id, user_id, role), UPDATE (role), DELETE ON public.organization_members TO authenticated;
GRANT UPDATE (campaign_name, instructions, tone, word_limit, ai_settings, default_language, status)
  ON public.campaigns TO authenticated;
GRANT INSERT (organization_id, email, phone, name, language_preference, extra_data),
  UPDATE (name, phone, language_preference, extra_data, unsubscribe_requested, unsubscribe_reason, reached_status)
  ON public.contacts TO authenticated;
GRANT INSERT (campaign_id, contact_id) ON public.campaign_contacts TO authenticated;
GRANT UPDATE (subject, body, status, scheduled_send_time) ON public.outreach_flows TO authenticated;
GRANT INSERT (campaign_id, contact_id, reason) ON public.campaign_unsubscribes TO authenticated;

-- 5. Adding many contacts in one request, with the checks a plain insert cannot make: one
-- answer listing what was added, enrolled and refused, and why. SECURITY INVOKER: the
-- caller's grants and row level security apply.
CREATE OR REPLACE FUNCTION public.add_contacts(organization_id uuid, contacts jsonb, campaign_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY INVOKER SET search_path = '' AS $$
#variable_conflict use_column
DECLARE
  org uuid := add_contacts.organization_id;
  campaign uuid := add_contacts.campaign_id;
  fields constant text[] := ARRAY['email', 'name', 'phone', 'language'];
  item jsonb;
  address text;
  contact uuid;
  opted_out boolean;
  seen text[] := '{}';
  added jsonb := '[]';
  refused jsonb := '[]';
  enrolled integer := 0;
BEGIN
  IF org IS NULL OR NOT (org = ANY (private.user_organizations())) THEN
    RAISE EXCEPTION 'not a member of this organization' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF jsonb_typeof(contacts) IS DISTINCT FROM 'array' OR jsonb_array_length(contacts) NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION 'contacts must be a list of 1 to 1000 objects' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF campaign IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM public.campaigns c WHERE c.id = campaign AND c.organization_id = org) THEN
    RAISE EXCEPTION 'no such campaign in this organization' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR item IN SELECT jsonb_array_elements(contacts) LOOP
    address := CASE WHEN jsonb_typeof(item) = 'object' THEN lower(btrim(item ->> 'email')) END;
    IF address IS NULL OR length(address) > 254
       OR address !~ '^[a-z0-9.!#$%&''*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$' THEN
      refused := refused || jsonb_build_object('email', item ->> 'email', 'reason', 'not an email address');
    ELSIF private.unknown_key(item, fields) IS NOT NULL THEN
      refused := refused || jsonb_build_object('email', address, 'reason',
                                               'unknown field ' || private.unknown_key(item, fields));
    ELSIF address = ANY (seen) THEN
      refused := refused || jsonb_build_object('email', address, 'reason', 'listed twice in this request');
    ELSE
      seen := seen || address;
      contact := NULL;
      SELECT ct.id, ct.unsubscribe_requested OR ct.reached_status IN ('unsubscribed', 'bounced', 'complained')
        INTO contact, opted_out
        FROM public.contacts ct WHERE ct.organization_id = org AND lower(ct.email) = address;
      IF contact IS NULL THEN
        INSERT INTO public.contacts (organization_id, email, name, phone, language_preference)
        VALUES (org, address, left(item ->> 'name', 200), left(item ->> 'phone', 40), left(item ->> 'language', 10))
        RETURNING id INTO contact;
        added := added || jsonb_build_object('email', address, 'id', contact);
      ELSIF opted_out THEN
        refused := refused || jsonb_build_object('email', address, 'reason', 'the contact opted out or bounced');
        CONTINUE;
      ELSIF campaign IS NULL THEN
        refused := refused || jsonb_build_object('email', address, 'reason', 'already a contact');
      END IF;
      IF campaign IS NOT NULL THEN
        INSERT INTO public.campaign_contacts (campaign_id, contact_id) VALUES (campaign, contact)
        ON CONFLICT DO NOTHING;
        IF FOUND THEN
          enrolled := enrolled + 1;
        END IF;
      END IF;
    END IF;
  END LOOP;
  RETURN jsonb_build_object('added', added, 'enrolled', enrolled, 'refused', refused);
END
$$;
REVOKE ALL ON FUNCTION public.add_contacts(uuid, jsonb, uuid) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.add_contacts(uuid, jsonb, uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.unknown_key(jsonb, text[]) TO authenticated;
