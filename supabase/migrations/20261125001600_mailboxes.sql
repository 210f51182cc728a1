-- The organization's own sending mailboxes (issue 16): their endpoints and limits, their
-- credentials in Supabase Vault, which mailbox sent each message, and what came back to them.

CREATE TABLE public.mailboxes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
  display_name text CHECK (display_name IS NULL OR (length(display_name) BETWEEN 1 AND 100
                                                    AND display_name !~ '[<>"[:cntrl:]]')),
  -- The URLs without their passwords (smtps://user@host:465), for people to read.
  smtp_endpoint text NOT NULL,
  imap_endpoint text,  -- NULL: nothing is read back from this mailbox
  -- The whole URLs live in vault.secrets; members never read these columns or the vault.
  smtp_secret_id uuid NOT NULL,
  imap_secret_id uuid,
  daily_cap integer NOT NULL CHECK (daily_cap BETWEEN 1 AND 10000),
  -- A new mailbox's ramp: ramp_start messages on the day it was added, ramp_step more each day
  -- after, up to daily_cap. Off while ramp_start is NULL.
  ramp_start integer CHECK (ramp_start BETWEEN 1 AND 10000),
  ramp_step integer NOT NULL DEFAULT 0 CHECK (ramp_step BETWEEN 0 AND 10000),
  active boolean NOT NULL DEFAULT true,
  -- Health: the last failure of each side, and until when sending waits after a refused login.
  smtp_error text,
  smtp_error_at timestamptz,
  send_blocked_until timestamptz,
  imap_error text,
  imap_error_at timestamptz,
  last_synced_at timestamptz,
  -- Where reading stopped: the INBOX's UIDVALIDITY and the last UID handled under it.
  imap_uidvalidity bigint,
  imap_last_uid bigint NOT NULL DEFAULT 0,
  sync_lease_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX mailboxes_organization_email_idx ON public.mailboxes (organization_id, email);

ALTER TABLE public.outreach_flows
  ADD COLUMN mailbox_id uuid REFERENCES public.mailboxes (id) ON DELETE SET NULL;
-- The per-mailbox rolling 24-hour count the claim makes.
CREATE INDEX outreach_flows_mailbox_sent_idx ON public.outreach_flows (mailbox_id, sent_at)
  WHERE mailbox_id IS NOT NULL AND status IN ('sent', 'sending');

-- Messages read back from the mailboxes and acted on: replies, automatic replies, delivery
-- failure reports and requests to stop. Other mail is not stored.
CREATE TABLE public.inbound_messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  mailbox_id uuid REFERENCES public.mailboxes (id) ON DELETE SET NULL,
  contact_id uuid REFERENCES public.contacts (id) ON DELETE SET NULL,
  campaign_id uuid REFERENCES public.campaigns (id) ON DELETE SET NULL,
  flow_id uuid REFERENCES public.outreach_flows (id) ON DELETE SET NULL,
  kind text NOT NULL CHECK (kind IN ('reply', 'auto_reply', 'bounce', 'stop_request')),
  from_address text,
  subject text,
  sent_at timestamptz,         -- the message's Date header
  received_at timestamptz NOT NULL DEFAULT now(),
  snippet text,                -- the first lines, without the quoted text
  return_date date,            -- an automatic reply's stated return
  bounced_address text,
  -- The Message-ID, or a digest of the message without one: each message is handled once per
  -- mailbox, also when the server renumbers the INBOX (a new UIDVALIDITY).
  fingerprint text NOT NULL,
  UNIQUE (mailbox_id, fingerprint)
);
CREATE INDEX inbound_messages_campaign_idx ON public.inbound_messages (campaign_id, kind) INCLUDE (contact_id, organization_id);
CREATE INDEX inbound_messages_organization_idx ON public.inbound_messages (organization_id, received_at DESC);
CREATE INDEX inbound_messages_contact_idx ON public.inbound_messages (contact_id);
CREATE INDEX inbound_messages_flow_idx ON public.inbound_messages (flow_id);

-- A mailbox URL's problem, or NULL: scheme://user:password@host[:port], the user name and
-- password URL-encoded. Which security each scheme means is the functions' part (README).
CREATE FUNCTION private.mailbox_url_problem(url text, kind text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = '' AS $$
DECLARE
  parts text[];
BEGIN
  IF url IS NULL OR length(url) > 2000 OR url ~ '[[:cntrl:][:space:]]' THEN
    RETURN format('%s_url must be a URL on one line', kind);
  END IF;
  parts := regexp_match(url, '^([a-z]+)://([^:@/?#]+):([^@/?#]+)@(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]{1,5}))?/?$');
  IF parts IS NULL THEN
    RETURN format('%1$s_url must look like %1$s://user:password@host:port or %1$ss://user:password@host:port, '
                  'with the user name and password URL-encoded', kind);
  END IF;
  IF parts[1] NOT IN (kind, kind || 's') THEN
    RETURN format('%1$s_url must start with %1$s:// or %1$ss://', kind);
  END IF;
  IF parts[5] IS NOT NULL AND parts[5]::integer NOT BETWEEN 1 AND 65535 THEN
    RETURN format('%s_url has a port outside 1 to 65535', kind);
  END IF;
  IF length(parts[4]) > 253 OR parts[4] ~ '^[.-]|\.\.' THEN
    RETURN format('%s_url has an invalid host name', kind);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION private.without_password(url text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT regexp_replace(url, '^([a-z]+://[^:@/?#]+):[^@/?#]*@', '\1@')
$$;

-- How many messages a mailbox may send in 24 hours today: its cap, or its ramp's step.
CREATE FUNCTION private.mailbox_cap(daily_cap integer, ramp_start integer, ramp_step integer, added timestamptz)
RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN ramp_start IS NULL THEN daily_cap
    ELSE least(daily_cap, ramp_start + ramp_step * floor(extract(epoch FROM now() - added) / 86400)::integer)
  END
$$;

-- public.add_mailbox: an admin adds a sending mailbox, or replaces the URLs and cap of one the
-- organization has under that address (a changed password). The URLs go to Vault; the table
-- keeps them without their passwords. Called through the Data API's RPC, or by the operator
-- from the SQL editor (no JWT claims).
CREATE FUNCTION public.add_mailbox(organization_id uuid, email text, smtp_url text, imap_url text DEFAULT NULL,
                                   daily_cap integer DEFAULT 50)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
#variable_conflict use_column
DECLARE
  org uuid := add_mailbox.organization_id;
  address text := lower(btrim(add_mailbox.email));
  cap integer := add_mailbox.daily_cap;
  problem text := coalesce(private.mailbox_url_problem(smtp_url, 'smtp'),
                           CASE WHEN imap_url IS NOT NULL THEN private.mailbox_url_problem(imap_url, 'imap') END);
  box public.mailboxes;
  new_id uuid := gen_random_uuid();
BEGIN
  IF org IS NULL OR NOT (
       org = ANY (private.user_admin_organizations())
       OR auth.role() = 'service_role'
       OR nullif(current_setting('request.jwt.claims', true), '') IS NULL) THEN
    RAISE EXCEPTION 'only an admin of the organization adds mailboxes' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF address IS NULL OR length(address) > 254
     OR address !~ '^[a-z0-9.!#$%&''*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$' THEN
    RAISE EXCEPTION 'email must be the mailbox''s address' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF cap IS NULL OR cap NOT BETWEEN 1 AND 10000 THEN
    RAISE EXCEPTION 'daily_cap must be a whole number from 1 to 10000' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF problem IS NOT NULL THEN
    -- The message names the rule, never the URL: it holds a password.
    RAISE EXCEPTION '%', problem USING ERRCODE = 'invalid_parameter_value';
  END IF;

  SELECT * INTO box FROM public.mailboxes m WHERE m.organization_id = org AND m.email = address FOR UPDATE;
  IF FOUND THEN
    PERFORM vault.update_secret(box.smtp_secret_id, smtp_url);
    IF imap_url IS NULL AND box.imap_secret_id IS NOT NULL THEN
      DELETE FROM vault.secrets s WHERE s.id = box.imap_secret_id;
      box.imap_secret_id := NULL;
    ELSIF imap_url IS NOT NULL AND box.imap_secret_id IS NOT NULL THEN
      PERFORM vault.update_secret(box.imap_secret_id, imap_url);
    ELSIF imap_url IS NOT NULL THEN
      box.imap_secret_id := vault.create_secret(imap_url, 'outreach mailbox ' || box.id || ' imap');
    END IF;
    UPDATE public.mailboxes m
    SET smtp_endpoint = private.without_password(smtp_url),
        imap_endpoint = private.without_password(imap_url),
        imap_secret_id = box.imap_secret_id, daily_cap = cap,
        smtp_error = NULL, smtp_error_at = NULL, send_blocked_until = NULL,
        imap_error = NULL, imap_error_at = NULL, updated_at = now()
    WHERE m.id = box.id;
    RETURN box.id;
  END IF;

  INSERT INTO public.mailboxes (id, organization_id, email, smtp_endpoint, imap_endpoint,
                                smtp_secret_id, imap_secret_id, daily_cap)
  VALUES (new_id, org, address, private.without_password(smtp_url), private.without_password(imap_url),
          vault.create_secret(smtp_url, 'outreach mailbox ' || new_id || ' smtp'),
          CASE WHEN imap_url IS NOT NULL THEN vault.create_secret(imap_url, 'outreach mailbox ' || new_id || ' imap') END,
          cap);
  RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION public.add_mailbox(uuid, text, text, text, integer) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.add_mailbox(uuid, text, text, text, integer) TO authenticated, service_role;

-- Removing a mailbox removes its credentials, and the waiting messages of the sequences it
-- was sending: a follow-up from another address would not thread.
CREATE FUNCTION private.remove_mailbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  UPDATE public.outreach_flows f
  SET status = 'canceled', status_reason = 'canceled: the mailbox sending this sequence was removed'
  WHERE f.status IN ('draft', 'scheduled')
    AND EXISTS (SELECT 1 FROM public.outreach_flows first
                WHERE first.campaign_id = f.campaign_id AND first.contact_id = f.contact_id
                  AND first.sequence_order = 0 AND first.mailbox_id = OLD.id AND first.status = 'sent');
  DELETE FROM vault.secrets s WHERE s.id IN (OLD.smtp_secret_id, OLD.imap_secret_id);
  RETURN OLD;
END
$$;
REVOKE ALL ON FUNCTION private.remove_mailbox() FROM PUBLIC;
CREATE TRIGGER mailboxes_remove BEFORE DELETE ON public.mailboxes
  FOR EACH ROW EXECUTE FUNCTION private.remove_mailbox();

-- ai_settings.mailboxes: the addresses a campaign sends from (default: every active mailbox of
-- the organization). Checked here, then the earlier rules check the rest.
ALTER FUNCTION private.campaign_settings_problem(jsonb) RENAME TO campaign_settings_problem_before_mailboxes;
CREATE FUNCTION private.campaign_settings_problem(settings jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = '' AS $$
DECLARE
  item jsonb;
BEGIN
  IF jsonb_typeof(settings) = 'object' AND settings ? 'mailboxes' THEN
    IF jsonb_typeof(settings -> 'mailboxes') = 'null' THEN
      NULL;  -- the default: every mailbox of the organization
    ELSIF jsonb_typeof(settings -> 'mailboxes') IS DISTINCT FROM 'array'
       OR jsonb_array_length(settings -> 'mailboxes') NOT BETWEEN 1 AND 100 THEN
      RETURN 'ai_settings.mailboxes must be a list of 1 to 100 mailbox addresses';
    ELSE
      FOR item IN SELECT jsonb_array_elements(settings -> 'mailboxes') LOOP
        IF jsonb_typeof(item) IS DISTINCT FROM 'string'
           OR (item #>> '{}') !~ '^[A-Za-z0-9.!#$%&''*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$' THEN
          RETURN 'ai_settings.mailboxes: each is a mailbox''s email address';
        END IF;
      END LOOP;
    END IF;
    RETURN private.campaign_settings_problem_before_mailboxes(settings - 'mailboxes');
  END IF;
  RETURN private.campaign_settings_problem_before_mailboxes(settings);
END
$$;

REVOKE ALL ON FUNCTION private.mailbox_url_problem(text, text), private.without_password(text),
  private.mailbox_cap(integer, integer, integer, timestamptz), private.campaign_settings_problem(jsonb) FROM PUBLIC;

-- Row level security and grants. Members read their organization's mailboxes (never the
-- credentials) and what came back; admins pause, tune or remove a mailbox.
ALTER TABLE public.mailboxes ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.inbound_messages ENABLE ROW LEVEL SECURITY;

CREATE POLICY mailboxes_select ON public.mailboxes FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY mailboxes_update ON public.mailboxes FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]))
  WITH CHECK (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]));
CREATE POLICY mailboxes_delete ON public.mailboxes FOR DELETE TO authenticated
  USING (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]));
CREATE POLICY inbound_messages_select ON public.inbound_messages FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));

REVOKE ALL ON public.mailboxes, public.inbound_messages FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT (id, organization_id, email, display_name, smtp_endpoint, imap_endpoint, daily_cap, ramp_start,
              ramp_step, active, smtp_error, smtp_error_at, send_blocked_until, imap_error, imap_error_at,
              last_synced_at, created_at, updated_at)
  ON public.mailboxes TO authenticated;
GRANT UPDATE (display_name, daily_cap, ramp_start, ramp_step, active) ON public.mailboxes TO authenticated;
GRANT DELETE ON public.mailboxes TO authenticated;
GRANT SELECT ON public.inbound_messages TO authenticated;
GRANT ALL ON public.mailboxes, public.inbound_messages TO service_role;

-- The right of access includes what the person wrote back (migration …1500, one key more).
CREATE OR REPLACE FUNCTION public.contact_data(organization_id uuid, email text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object(
    'contact', to_jsonb(ct) - 'organization_id',
    'found_on', ct.extra_data ->> 'source_url',
    'found_at', ct.created_at,
    'campaigns', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'campaign_id', cc.campaign_id, 'enrolled_at', cc.created_at, 'status', cc.status)), '[]')
                  FROM public.campaign_contacts cc WHERE cc.contact_id = ct.id),
    'messages', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'campaign_id', f.campaign_id, 'step', f.sequence_order, 'status', f.status,
                   'subject', f.subject, 'body', f.body, 'scheduled_send_time', f.scheduled_send_time,
                   'sent_at', f.sent_at) ORDER BY f.campaign_id, f.sequence_order), '[]')
                 FROM public.outreach_flows f WHERE f.contact_id = ct.id),
    'campaign_unsubscribes', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'campaign_id', u.campaign_id, 'at', u.unsubscribed_at, 'reason', u.reason)), '[]')
                              FROM public.campaign_unsubscribes u WHERE u.contact_id = ct.id),
    'received', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'kind', m.kind, 'from', m.from_address, 'subject', m.subject, 'date', m.sent_at,
                   'received_at', m.received_at, 'text', m.snippet) ORDER BY m.received_at), '[]')
                 FROM public.inbound_messages m WHERE m.contact_id = ct.id)
  )), '[]')
  FROM public.contacts ct
  WHERE ct.organization_id = contact_data.organization_id AND lower(ct.email) = lower(btrim(contact_data.email))
$$;
