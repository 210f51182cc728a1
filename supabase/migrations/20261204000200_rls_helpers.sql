-- Grants and row level security written once, as basejump does: default privileges that give
-- nothing, one helper for "rows of my organizations", and policies named as the sentence they
-- enforce. What each role may do is unchanged; only the way it is written changes.

-- 1. Default privileges, revoked once. A function no longer becomes executable by PUBLIC when it
-- is created, and on Supabase (whose defaults grant anon and authenticated everything in public)
-- a new table, sequence or function gets nothing until a migration grants it. Each new object
-- still states its grants; this makes forgetting them close it instead of opening it.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM anon, authenticated;

-- 2. The one helper: the organizations the caller belongs to (with the given role, when one is
-- named). Policies compare it as `organization_id = ANY ((SELECT private.my_organizations())::uuid[])`:
-- the sub-select makes it an init plan, computed once per statement instead of once per row (the
-- cast makes ANY read the array, not the sub-select's rows).
-- PL/pgSQL keeps its plan between calls (a SECURITY DEFINER SQL function is planned each time).
CREATE FUNCTION private.my_organizations(role text DEFAULT NULL) RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(m.organization_id), '{}')
          FROM public.organization_members m
          WHERE m.user_id = auth.uid() AND (my_organizations.role IS NULL OR m.role = my_organizations.role));
END
$$;
GRANT EXECUTE ON FUNCTION private.my_organizations(text) TO authenticated;

-- The names functions already use, kept: the same answer, from the one helper.
CREATE OR REPLACE FUNCTION private.user_organizations() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  RETURN private.my_organizations();
END
$$;
CREATE OR REPLACE FUNCTION private.user_admin_organizations() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  RETURN private.my_organizations('admin');
END
$$;

-- 3. Every policy again, named as a sentence, on the one helper. Dropped by name: policies that
-- other migrations add are left alone.
DROP POLICY organizations_select ON public.organizations;
DROP POLICY organizations_update ON public.organizations;
DROP POLICY organization_members_select ON public.organization_members;
DROP POLICY organization_members_insert ON public.organization_members;
DROP POLICY organization_members_update ON public.organization_members;
DROP POLICY organization_members_delete ON public.organization_members;
DROP POLICY campaigns_select ON public.campaigns;
DROP POLICY campaigns_update ON public.campaigns;
DROP POLICY search_tasks_select ON public.search_tasks;
DROP POLICY scrape_results_select ON public.scrape_results;
DROP POLICY contacts_select ON public.contacts;
DROP POLICY contacts_insert ON public.contacts;
DROP POLICY contacts_update ON public.contacts;
DROP POLICY campaign_contacts_select ON public.campaign_contacts;
DROP POLICY campaign_contacts_insert ON public.campaign_contacts;
DROP POLICY outreach_flows_select ON public.outreach_flows;
DROP POLICY outreach_flows_update ON public.outreach_flows;
DROP POLICY campaign_unsubscribes_select ON public.campaign_unsubscribes;
DROP POLICY campaign_unsubscribes_insert ON public.campaign_unsubscribes;
DROP POLICY sender_domains_select ON public.sender_domains;
DROP POLICY mailboxes_select ON public.mailboxes;
DROP POLICY mailboxes_update ON public.mailboxes;
DROP POLICY mailboxes_delete ON public.mailboxes;
DROP POLICY inbound_messages_select ON public.inbound_messages;
DROP POLICY public_mail_domains_select ON public.public_mail_domains;
DROP POLICY contact_forms_select ON public.contact_forms;

CREATE POLICY "members read their organizations" ON public.organizations
  FOR SELECT TO authenticated
  USING (id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "admins update their organizations" ON public.organizations
  FOR UPDATE TO authenticated
  USING (id = ANY ((SELECT private.my_organizations('admin'))::uuid[]))
  WITH CHECK (id = ANY ((SELECT private.my_organizations('admin'))::uuid[]));

CREATE POLICY "members read their organization's members" ON public.organization_members
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "admins add members to their organizations" ON public.organization_members
  FOR INSERT TO authenticated
  WITH CHECK (organization_id = ANY ((SELECT private.my_organizations('admin'))::uuid[]));
CREATE POLICY "admins change the roles of their organization's members" ON public.organization_members
  FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations('admin'))::uuid[]))
  WITH CHECK (organization_id = ANY ((SELECT private.my_organizations('admin'))::uuid[]));
CREATE POLICY "admins remove members from their organizations" ON public.organization_members
  FOR DELETE TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations('admin'))::uuid[]));

CREATE POLICY "members read their organization's campaigns" ON public.campaigns
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "admins change their organization's campaigns" ON public.campaigns
  FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations('admin'))::uuid[]))
  WITH CHECK (organization_id = ANY ((SELECT private.my_organizations('admin'))::uuid[]));

CREATE POLICY "members read their organization's search tasks" ON public.search_tasks
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members read their organization's scrape results" ON public.scrape_results
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));

CREATE POLICY "members read their organization's contacts" ON public.contacts
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members add contacts to their organizations" ON public.contacts
  FOR INSERT TO authenticated
  WITH CHECK (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members edit their organization's contacts" ON public.contacts
  FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]))
  WITH CHECK (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));

-- A new link's organization_id is filled by its trigger after the check, so the check reads the
-- campaign's.
CREATE POLICY "members read their organization's campaign contacts" ON public.campaign_contacts
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members enroll contacts in their organization's campaigns" ON public.campaign_contacts
  FOR INSERT TO authenticated
  WITH CHECK ((SELECT c.organization_id FROM public.campaigns c WHERE c.id = campaign_id)
              = ANY ((SELECT private.my_organizations())::uuid[]));

-- Review before send: members approve (draft -> scheduled), edit and cancel waiting messages.
CREATE POLICY "members read their organization's messages" ON public.outreach_flows
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members review their organization's waiting messages" ON public.outreach_flows
  FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]) AND status IN ('draft', 'scheduled'))
  WITH CHECK (organization_id = ANY ((SELECT private.my_organizations())::uuid[])
              AND status IN ('draft', 'scheduled', 'canceled'));

CREATE POLICY "members read their organization's campaign unsubscribes" ON public.campaign_unsubscribes
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members record unsubscribes in their organization's campaigns" ON public.campaign_unsubscribes
  FOR INSERT TO authenticated
  WITH CHECK ((SELECT c.organization_id FROM public.campaigns c WHERE c.id = campaign_id)
              = ANY ((SELECT private.my_organizations())::uuid[]));

CREATE POLICY "members read their organization's sender domains" ON public.sender_domains
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));

-- The credentials are out of members' reach by column grants; the policies pick the rows.
CREATE POLICY "members read their organization's mailboxes" ON public.mailboxes
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "admins change their organization's mailboxes" ON public.mailboxes
  FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations('admin'))::uuid[]))
  WITH CHECK (organization_id = ANY ((SELECT private.my_organizations('admin'))::uuid[]));
CREATE POLICY "admins remove their organization's mailboxes" ON public.mailboxes
  FOR DELETE TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations('admin'))::uuid[]));

CREATE POLICY "members read what came back to their organization" ON public.inbound_messages
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));
CREATE POLICY "members read their organization's contact forms" ON public.contact_forms
  FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.my_organizations())::uuid[]));

-- Shared reference data, the same for everyone.
CREATE POLICY "members read which mail domains are public" ON public.public_mail_domains
  FOR SELECT TO authenticated
  USING (true);
