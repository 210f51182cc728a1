-- The team's console (functions/console) reads as the signed-in member, through the same grants
-- and row level security as the Data API. These indexes keep each of its views' first page a
-- short index range at volume (10,000 drafts and 1,000,000 messages in one organization), with
-- keyset pagination: no view counts or skips rows it does not show.

-- The review queue: an organization's drafts, oldest first, by (created_at, id).
CREATE INDEX outreach_flows_drafts_idx ON public.outreach_flows (organization_id, created_at, id)
  WHERE status = 'draft';

-- Per-step and per-mailbox figures of one campaign, read index-only.
CREATE INDEX outreach_flows_campaign_step_idx ON public.outreach_flows (campaign_id, sequence_order, status)
  INCLUDE (organization_id);
CREATE INDEX outreach_flows_campaign_mailbox_idx ON public.outreach_flows (campaign_id, mailbox_id, status)
  INCLUDE (organization_id);

-- The inbox: people's answers, newest first, by (received_at, id).
CREATE INDEX inbound_messages_inbox_idx ON public.inbound_messages (organization_id, received_at DESC, id DESC)
  WHERE kind IN ('reply', 'stop_request');

-- Contact search: a prefix of the address, the name or the company (the address's domain, or
-- the site of a contact reached by form). text_pattern_ops: LIKE 'prefix%' uses the index
-- whatever the database's collation.
CREATE INDEX contacts_search_email_idx ON public.contacts (organization_id, lower(email) text_pattern_ops);
CREATE INDEX contacts_search_name_idx ON public.contacts (organization_id, lower(name) text_pattern_ops);
CREATE INDEX contacts_search_company_idx
  ON public.contacts (organization_id, lower(coalesce(form_site, split_part(email, '@', 2))) text_pattern_ops);

-- Two reads a member makes that row level security would make slow: PostgreSQL uses an index
-- under a policy only for leakproof operators, and lower() and LIKE are not, so a member's
-- case-insensitive lookup reads every contact of the organization (over a second at 300,000).
-- These functions check membership first, as add_contacts does, then read as the owner through
-- the indexes, and give back only what the member could read anyway.

-- The ids of the organization's contacts whose address, name or company (the address's domain,
-- or the site of a contact reached by form) starts with `prefix`, ignoring case; at most
-- max_rows. The caller reads the rows themselves under row level security.
CREATE FUNCTION public.search_contacts(organization_id uuid, prefix text, max_rows integer DEFAULT 50)
RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  org uuid := search_contacts.organization_id;
  low text := lower(btrim(prefix));
  high text;
BEGIN
  IF org IS NULL OR NOT (org = ANY (private.user_organizations())) THEN
    RAISE EXCEPTION 'not a member of this organization' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF low IS NULL OR length(low) NOT BETWEEN 1 AND 200 OR max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'prefix is 1 to 200 characters, max_rows 1 to 200' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- A range on the text_pattern_ops indexes (byte order): every text starting with `low` sorts
  -- between it and `low` followed by the last code point. No LIKE, so no wildcard to escape,
  -- and the same plan serves every prefix.
  high := low || chr(1114111);
  RETURN ARRAY(
    SELECT s.id FROM (
      (SELECT c.id FROM public.contacts c
       WHERE c.organization_id = org AND lower(c.email) ~>=~ low AND lower(c.email) ~<~ high
       ORDER BY lower(c.email) LIMIT max_rows)
      UNION
      (SELECT c.id FROM public.contacts c
       WHERE c.organization_id = org AND lower(c.name) ~>=~ low AND lower(c.name) ~<~ high
       ORDER BY lower(c.name) LIMIT max_rows)
      UNION
      (SELECT c.id FROM public.contacts c
       WHERE c.organization_id = org
         AND lower(coalesce(c.form_site, split_part(c.email, '@', 2))) ~>=~ low
         AND lower(coalesce(c.form_site, split_part(c.email, '@', 2))) ~<~ high
       ORDER BY lower(coalesce(c.form_site, split_part(c.email, '@', 2))) LIMIT max_rows)
    ) s LIMIT max_rows);
END
$$;

-- contact_data() for one contact by its id, for a member of its organization. contact_data is
-- SECURITY INVOKER and shows only what members read; called from here it reads as the owner,
-- through the address index. If it ever returns something members may not read, this must
-- check that too.
CREATE FUNCTION public.contact_data_by_id(contact_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  org uuid;
  address text;
BEGIN
  SELECT c.organization_id, c.email INTO org, address FROM public.contacts c WHERE c.id = contact_data_by_id.contact_id;
  IF org IS NULL OR NOT (org = ANY (private.user_organizations())) THEN
    RAISE EXCEPTION 'no such contact in your organizations' USING ERRCODE = 'no_data_found';
  END IF;
  RETURN public.contact_data(org, address);
END
$$;

REVOKE ALL ON FUNCTION public.search_contacts(uuid, text, integer), public.contact_data_by_id(uuid) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.search_contacts(uuid, text, integer), public.contact_data_by_id(uuid)
  TO authenticated, service_role;
