-- Row level security on every table (promise 4, "Tenants apart").
--
-- Policies are for the `authenticated` role and rest on small SECURITY DEFINER helpers (as
-- basejump does), which read memberships without recursing into the policies themselves.
-- Members read their organization's rows; admins change the organization, its members, its
-- campaigns and their search work; members may add and edit contacts, approve drafted
-- messages (review before send) and record unsubscribes. `anon` sees nothing. The functions
-- connect as the tables' owner, which row level security does not restrict.

CREATE OR REPLACE FUNCTION public.is_org_member(org uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.organization_members m
    WHERE m.organization_id = org AND m.user_id = auth.uid()
  )
$$;

CREATE OR REPLACE FUNCTION public.is_org_admin(org uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.organization_members m
    WHERE m.organization_id = org AND m.user_id = auth.uid() AND m.role = 'admin'
  )
$$;

CREATE OR REPLACE FUNCTION public.campaign_org(campaign uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT organization_id FROM public.campaigns WHERE id = campaign
$$;

CREATE OR REPLACE FUNCTION public.search_task_org(task uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT c.organization_id
  FROM public.search_tasks t JOIN public.campaigns c ON c.id = t.campaign_id
  WHERE t.id = task
$$;

CREATE OR REPLACE FUNCTION public.contact_org(contact uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT organization_id FROM public.contacts WHERE id = contact
$$;

REVOKE ALL ON FUNCTION public.is_org_member(uuid), public.is_org_admin(uuid), public.campaign_org(uuid),
  public.search_task_org(uuid), public.contact_org(uuid) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.is_org_member(uuid), public.is_org_admin(uuid), public.campaign_org(uuid),
  public.search_task_org(uuid), public.contact_org(uuid) TO authenticated, service_role;

-- The internal trigger helpers are not part of any API.
REVOKE ALL ON FUNCTION public.ensure_same_organization(), public.set_updated_at() FROM PUBLIC, anon, authenticated;

ALTER TABLE public.organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.organization_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.campaigns ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.search_tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.scrape_results ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.campaign_contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.outreach_flows ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.campaign_unsubscribes ENABLE ROW LEVEL SECURITY;

-- Belt and braces: anon has no policy anywhere, and no privilege either.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM anon;

-- organizations
CREATE POLICY organizations_select ON public.organizations FOR SELECT TO authenticated
  USING (public.is_org_member(id));
CREATE POLICY organizations_update ON public.organizations FOR UPDATE TO authenticated
  USING (public.is_org_admin(id)) WITH CHECK (public.is_org_admin(id));

-- organization_members
CREATE POLICY organization_members_select ON public.organization_members FOR SELECT TO authenticated
  USING (public.is_org_member(organization_id));
CREATE POLICY organization_members_insert ON public.organization_members FOR INSERT TO authenticated
  WITH CHECK (public.is_org_admin(organization_id));
CREATE POLICY organization_members_update ON public.organization_members FOR UPDATE TO authenticated
  USING (public.is_org_admin(organization_id)) WITH CHECK (public.is_org_admin(organization_id));
CREATE POLICY organization_members_delete ON public.organization_members FOR DELETE TO authenticated
  USING (public.is_org_admin(organization_id));

-- campaigns
CREATE POLICY campaigns_select ON public.campaigns FOR SELECT TO authenticated
  USING (public.is_org_member(organization_id));
CREATE POLICY campaigns_insert ON public.campaigns FOR INSERT TO authenticated
  WITH CHECK (public.is_org_admin(organization_id));
CREATE POLICY campaigns_update ON public.campaigns FOR UPDATE TO authenticated
  USING (public.is_org_admin(organization_id)) WITH CHECK (public.is_org_admin(organization_id));
CREATE POLICY campaigns_delete ON public.campaigns FOR DELETE TO authenticated
  USING (public.is_org_admin(organization_id));

-- search_tasks
CREATE POLICY search_tasks_select ON public.search_tasks FOR SELECT TO authenticated
  USING (public.is_org_member(public.campaign_org(campaign_id)));
CREATE POLICY search_tasks_write ON public.search_tasks FOR ALL TO authenticated
  USING (public.is_org_admin(public.campaign_org(campaign_id)))
  WITH CHECK (public.is_org_admin(public.campaign_org(campaign_id)));

-- scrape_results
CREATE POLICY scrape_results_select ON public.scrape_results FOR SELECT TO authenticated
  USING (public.is_org_member(public.search_task_org(search_task_id)));
CREATE POLICY scrape_results_write ON public.scrape_results FOR ALL TO authenticated
  USING (public.is_org_admin(public.search_task_org(search_task_id)))
  WITH CHECK (public.is_org_admin(public.search_task_org(search_task_id)));

-- contacts
CREATE POLICY contacts_select ON public.contacts FOR SELECT TO authenticated
  USING (public.is_org_member(organization_id));
CREATE POLICY contacts_insert ON public.contacts FOR INSERT TO authenticated
  WITH CHECK (public.is_org_member(organization_id));
CREATE POLICY contacts_update ON public.contacts FOR UPDATE TO authenticated
  USING (public.is_org_member(organization_id)) WITH CHECK (public.is_org_member(organization_id));
CREATE POLICY contacts_delete ON public.contacts FOR DELETE TO authenticated
  USING (public.is_org_admin(organization_id));

-- campaign_contacts
CREATE POLICY campaign_contacts_select ON public.campaign_contacts FOR SELECT TO authenticated
  USING (public.is_org_member(public.campaign_org(campaign_id)));
CREATE POLICY campaign_contacts_write ON public.campaign_contacts FOR ALL TO authenticated
  USING (public.is_org_admin(public.campaign_org(campaign_id)))
  WITH CHECK (public.is_org_admin(public.campaign_org(campaign_id)));

-- outreach_flows: members review drafts (draft -> scheduled) and may cancel.
CREATE POLICY outreach_flows_select ON public.outreach_flows FOR SELECT TO authenticated
  USING (public.is_org_member(public.campaign_org(campaign_id)));
CREATE POLICY outreach_flows_update ON public.outreach_flows FOR UPDATE TO authenticated
  USING (public.is_org_member(public.campaign_org(campaign_id)) AND status IN ('draft', 'scheduled'))
  WITH CHECK (public.is_org_member(public.campaign_org(campaign_id)) AND status IN ('draft', 'scheduled', 'canceled'));

-- campaign_unsubscribes
CREATE POLICY campaign_unsubscribes_select ON public.campaign_unsubscribes FOR SELECT TO authenticated
  USING (public.is_org_member(public.campaign_org(campaign_id)));
CREATE POLICY campaign_unsubscribes_insert ON public.campaign_unsubscribes FOR INSERT TO authenticated
  WITH CHECK (public.is_org_member(public.campaign_org(campaign_id)));

-- Tables and views made by later migrations start with no privilege for anon either.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon;
