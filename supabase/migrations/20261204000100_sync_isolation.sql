-- Reading the mailboxes safely (docs/RELIABILITY.md, promises 8 and 11): one message never stops
-- a mailbox, one mailbox never stops another; what cannot be trusted is recorded for a person,
-- and changes nothing. Bounce and complaint states come only from the system, and a mailbox's
-- address is at one of the organization's sending domains.

-- 1. Messages set aside. A message that could not be read or handled (its reason and its UID,
-- so the cursor moves past it), and a message that was read but is not believed: a reply or
-- request to stop from someone who is not the contact (nor at their company's domain), a
-- delivery report quoting none of the Message-IDs we sent to the address it names. Members read
-- them; setting read_again makes the next sync read that UID again.
CREATE TABLE public.inbound_quarantine (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  mailbox_id uuid NOT NULL REFERENCES public.mailboxes (id) ON DELETE CASCADE,
  uidvalidity bigint NOT NULL,
  uid bigint NOT NULL,
  -- unreadable: an error while reading or handling it; unverified: read, not believed.
  problem text NOT NULL CHECK (problem IN ('unreadable', 'unverified')),
  reason text NOT NULL CHECK (length(reason) <= 500),
  kind text CHECK (kind IN ('reply', 'auto_reply', 'bounce', 'stop_request', 'complaint')),  -- what it was read as
  contact_id uuid REFERENCES public.contacts (id) ON DELETE SET NULL,           -- the contact it named
  from_address text,
  subject text,
  snippet text,
  fingerprint text,
  attempts integer NOT NULL DEFAULT 1,
  read_again boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (mailbox_id, uidvalidity, uid)
);
CREATE INDEX inbound_quarantine_organization_idx ON public.inbound_quarantine (organization_id, created_at DESC);
CREATE INDEX inbound_quarantine_read_again_idx ON public.inbound_quarantine (mailbox_id, uidvalidity)
  WHERE read_again;
CREATE INDEX inbound_quarantine_contact_idx ON public.inbound_quarantine (contact_id);

ALTER TABLE public.inbound_quarantine ENABLE ROW LEVEL SECURITY;
CREATE POLICY inbound_quarantine_select ON public.inbound_quarantine FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY inbound_quarantine_update ON public.inbound_quarantine FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]))
  WITH CHECK (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
REVOKE ALL ON public.inbound_quarantine FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT, UPDATE (read_again) ON public.inbound_quarantine TO authenticated;
GRANT ALL ON public.inbound_quarantine TO service_role;

-- 2. A mailbox whose reading failed waits before it is tried again (MAILBOX_RETRY_SECONDS,
-- doubled after each failure in a row, at most 6 hours), instead of being the first claimed.
ALTER TABLE public.mailboxes
  ADD COLUMN sync_retry_at timestamptz,
  ADD COLUMN imap_failures integer NOT NULL DEFAULT 0;
GRANT SELECT (sync_retry_at) ON public.mailboxes TO authenticated;
CREATE INDEX mailboxes_sync_idx ON public.mailboxes (sync_retry_at) WHERE active AND imap_secret_id IS NOT NULL;

-- 3. Bounced and complained come only from the system (an SMTP answer, a delivery report, SES,
-- /events), which trips the circuit breakers: a member setting them would pause a campaign and
-- its mailboxes. Members still record an opt-out ('unsubscribed').
CREATE FUNCTION private.system_states_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF current_user IN ('authenticated', 'anon') AND NEW.reached_status IN ('bounced', 'complained')
     AND OLD.reached_status IS DISTINCT FROM NEW.reached_status THEN
    RAISE EXCEPTION 'reached_status % is set only by the system (a bounce or complaint report)', NEW.reached_status
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION private.system_states_only() FROM PUBLIC;
CREATE TRIGGER contacts_system_states_only
  BEFORE UPDATE OF reached_status ON public.contacts
  FOR EACH ROW EXECUTE FUNCTION private.system_states_only();

-- 4. add_mailbox: the address goes out as From:, so, like a campaign's sender_email, its domain
-- must be one of the organization's sender_domains. An admin through the Data API is refused
-- otherwise; the operator (SQL editor, service_role), who alone writes sender_domains, vouches
-- for the domain by adding the mailbox, and it is registered with it.
CREATE OR REPLACE FUNCTION public.add_mailbox(organization_id uuid, email text, smtp_url text, imap_url text DEFAULT NULL,
                                              daily_cap integer DEFAULT 50)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
#variable_conflict use_column
DECLARE
  org uuid := add_mailbox.organization_id;
  address text := lower(btrim(add_mailbox.email));
  sending_domain text := split_part(lower(btrim(add_mailbox.email)), '@', 2);
  cap integer := add_mailbox.daily_cap;
  problem text := coalesce(private.mailbox_url_problem(smtp_url, 'smtp'),
                           CASE WHEN imap_url IS NOT NULL THEN private.mailbox_url_problem(imap_url, 'imap') END);
  operator boolean := auth.role() = 'service_role'
                      OR nullif(current_setting('request.jwt.claims', true), '') IS NULL;
  box public.mailboxes;
  new_id uuid := gen_random_uuid();
BEGIN
  IF org IS NULL OR NOT (org = ANY (private.user_admin_organizations()) OR operator) THEN
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
  IF NOT EXISTS (SELECT 1 FROM public.sender_domains d WHERE d.organization_id = org AND d.domain = sending_domain) THEN
    IF NOT operator THEN
      RAISE EXCEPTION 'email: % is not a sending domain of this organization (the operator adds them)', sending_domain
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO public.sender_domains (organization_id, domain) VALUES (org, sending_domain)
    ON CONFLICT DO NOTHING;
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
        imap_error = NULL, imap_error_at = NULL, sync_retry_at = NULL, imap_failures = 0, updated_at = now()
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
