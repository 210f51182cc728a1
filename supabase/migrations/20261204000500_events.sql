-- Signed webhooks to the organization's own tools (README, "Webhooks to your tools").
--
-- An admin registers an endpoint with public.add_webhook; its signing secret (Standard Webhooks'
-- whsec_ form) lives in Vault and is shown once. Changes worth telling (a reply, a bounce, an
-- unsubscribe, a paused campaign, a failing mailbox, a draft to review) write one row per
-- subscribed endpoint into public.webhook_deliveries, the outbox, in the same transaction as the
-- change. deliver_events sends them (shared/events/): fired by a database webhook on insert, and
-- by the scheduler every minute, since pg_net never retries.

CREATE TABLE public.webhook_endpoints (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  url text NOT NULL CHECK (length(url) <= 2000),
  events text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 20),
  -- The whsec_ secret is in vault.secrets; members never read this column or the vault.
  secret_id uuid NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_organization_idx ON public.webhook_endpoints (organization_id) WHERE active;

-- The outbox: one row per event per endpoint. Its id is the webhook-id of every attempt.
-- A row waits in 'pending' until next_attempt_at; claiming it moves next_attempt_at past the
-- lease, so a deliverer that dies leaves it due again, never lost (at least once).
CREATE TABLE public.webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  endpoint_id uuid NOT NULL REFERENCES public.webhook_endpoints (id) ON DELETE CASCADE,
  event_type text NOT NULL,
  payload jsonb NOT NULL,  -- the body: {type, timestamp, data}
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_status integer,  -- the endpoint's last HTTP status
  last_error text,      -- why the last attempt failed (the final reason once 'failed')
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries (endpoint_id, next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_organization_idx ON public.webhook_deliveries (organization_id, created_at DESC);

CREATE FUNCTION private.webhook_event_types() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['reply.received', 'contact.bounced', 'contact.unsubscribed', 'campaign.paused',
               'mailbox.failing', 'draft.awaiting_review']
$$;

-- An endpoint URL's problem, or NULL. Where it may point (public addresses only) is checked at
-- each delivery, against what the name resolves to then.
CREATE FUNCTION private.webhook_url_problem(url text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = '' AS $$
DECLARE
  parts text[];
BEGIN
  IF url IS NULL OR length(url) > 2000 OR url ~ '[[:cntrl:][:space:]]' THEN
    RETURN 'url must be an https:// URL on one line, at most 2000 characters';
  END IF;
  parts := regexp_match(url, '^(https?)://([^/?#@]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?([/?][^#]*)?$');
  IF parts IS NULL THEN
    RETURN 'url must be an https:// URL with a host name, without a fragment';
  END IF;
  IF parts[2] IS NOT NULL THEN
    RETURN 'url must not contain a user name or password';
  END IF;
  IF parts[4] IS NOT NULL AND substr(parts[4], 2)::integer NOT BETWEEN 1 AND 65535 THEN
    RETURN 'url has a port outside 1 to 65535';
  END IF;
  IF length(parts[3]) > 253 OR parts[3] ~ '^[.-]|\.\.' THEN
    RETURN 'url has an invalid host name';
  END IF;
  RETURN NULL;
END
$$;

-- public.add_webhook: an admin registers an endpoint; the answer carries its secret, the only
-- time it is shown. Called through the Data API's RPC, or by the operator (no JWT claims).
CREATE FUNCTION public.add_webhook(organization_id uuid, url text, events text[])
RETURNS TABLE (id uuid, secret text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
#variable_conflict use_column
DECLARE
  org uuid := add_webhook.organization_id;
  wanted text[];
  unknown text[];
  problem text := private.webhook_url_problem(add_webhook.url);
  new_id uuid := gen_random_uuid();
  -- 32 random bytes from two version-4 UUIDs (pg_strong_random; 244 random bits), without
  -- needing pgcrypto's schema: Standard Webhooks asks for 24 to 64 bytes.
  new_secret text := 'whsec_' || encode(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), 'base64');
BEGIN
  IF org IS NULL OR NOT (
       org = ANY (private.user_admin_organizations())
       OR auth.role() = 'service_role'
       OR nullif(current_setting('request.jwt.claims', true), '') IS NULL) THEN
    RAISE EXCEPTION 'only an admin of the organization adds webhooks' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION '%', problem USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT array_agg(DISTINCT e ORDER BY e) INTO wanted FROM unnest(add_webhook.events) e;
  IF wanted IS NULL OR array_position(wanted, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'events must list one or more of: %', array_to_string(private.webhook_event_types(), ', ')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT array_agg(e) INTO unknown FROM unnest(wanted) e WHERE e <> ALL (private.webhook_event_types());
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown event %; events are: %', left(array_to_string(unknown, ', '), 200),
      array_to_string(private.webhook_event_types(), ', ') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF (SELECT count(*) FROM public.webhook_endpoints w WHERE w.organization_id = org) >= 20 THEN
    RAISE EXCEPTION 'an organization has at most 20 webhook endpoints' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  INSERT INTO public.webhook_endpoints (id, organization_id, url, events, secret_id)
  VALUES (new_id, org, add_webhook.url, wanted, vault.create_secret(new_secret, 'outreach webhook ' || new_id));
  RETURN QUERY SELECT new_id, new_secret;
END
$$;
REVOKE ALL ON FUNCTION public.add_webhook(uuid, text, text[]) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.add_webhook(uuid, text, text[]) TO authenticated, service_role;

-- Removing an endpoint removes its secret (its deliveries go with it).
CREATE FUNCTION private.remove_webhook() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  DELETE FROM vault.secrets s WHERE s.id = OLD.secret_id;
  RETURN OLD;
END
$$;
CREATE TRIGGER webhook_endpoints_remove BEFORE DELETE ON public.webhook_endpoints
  FOR EACH ROW EXECUTE FUNCTION private.remove_webhook();

-- The outbox's writer: one row per active endpoint of the organization subscribed to the
-- event. Without one it is a single index probe, so the triggers below cost almost nothing.
CREATE FUNCTION private.enqueue_event(org uuid, event_type text, data jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$
  INSERT INTO public.webhook_deliveries (organization_id, endpoint_id, event_type, payload)
  SELECT enqueue_event.org, e.id, enqueue_event.event_type,
         jsonb_build_object('type', enqueue_event.event_type,
                            'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                            'data', enqueue_event.data)
  FROM public.webhook_endpoints e
  WHERE e.organization_id = enqueue_event.org AND e.active AND enqueue_event.event_type = ANY (e.events)
$$;

CREATE FUNCTION private.has_webhooks(org uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT EXISTS (SELECT 1 FROM public.webhook_endpoints e WHERE e.organization_id = org AND e.active)
$$;

CREATE FUNCTION private.contact_summary(contact_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT jsonb_build_object('id', ct.id, 'email', ct.email, 'name', ct.name)
  FROM public.contacts ct WHERE ct.id = contact_id
$$;

CREATE FUNCTION private.campaign_summary(campaign_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT jsonb_build_object('id', c.id, 'name', c.campaign_name)
  FROM public.campaigns c WHERE c.id = campaign_id
$$;

-- reply.received, written when the transaction that stored the reply commits (a deferred
-- trigger), from the row as it is then: a classification stored later in the same transaction
-- (its intent and confidence) is in the event. Read by name, whether or not this schema has
-- those columns.
CREATE FUNCTION private.event_reply_received() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  fields jsonb;
BEGIN
  IF NOT private.has_webhooks(NEW.organization_id) THEN
    RETURN NULL;
  END IF;
  SELECT to_jsonb(m) INTO fields FROM public.inbound_messages m WHERE m.id = NEW.id;
  IF fields IS NULL OR fields ->> 'kind' IS DISTINCT FROM 'reply' THEN
    RETURN NULL;  -- removed, or found not to be a reply, before the commit
  END IF;
  PERFORM private.enqueue_event(NEW.organization_id, 'reply.received', jsonb_build_object(
    'inbound_message_id', NEW.id,
    'intent', fields -> 'intent',
    'confidence', fields -> 'intent_confidence',
    'contact', private.contact_summary((fields ->> 'contact_id')::uuid),
    'campaign', private.campaign_summary((fields ->> 'campaign_id')::uuid),
    'from', fields ->> 'from_address',
    'subject', fields ->> 'subject',
    'excerpt', left(fields ->> 'snippet', 1000),
    'received_at', fields -> 'received_at'));
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER inbound_messages_event AFTER INSERT ON public.inbound_messages
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.kind = 'reply') EXECUTE FUNCTION private.event_reply_received();

-- contact.bounced and contact.unsubscribed (from every campaign), as the contact's state changes.
CREATE FUNCTION private.event_contact_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  IF NOT private.has_webhooks(NEW.organization_id) THEN
    RETURN NULL;
  END IF;
  IF NEW.reached_status = 'bounced' AND OLD.reached_status IS DISTINCT FROM 'bounced' THEN
    PERFORM private.enqueue_event(NEW.organization_id, 'contact.bounced', jsonb_build_object(
      'contact', private.contact_summary(NEW.id)));
  END IF;
  IF (NEW.unsubscribe_requested OR NEW.reached_status = 'unsubscribed')
     AND NOT (OLD.unsubscribe_requested OR OLD.reached_status = 'unsubscribed') THEN
    PERFORM private.enqueue_event(NEW.organization_id, 'contact.unsubscribed', jsonb_build_object(
      'contact', private.contact_summary(NEW.id), 'scope', 'all', 'campaign', NULL,
      'reason', NEW.unsubscribe_reason));
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER contacts_event AFTER UPDATE OF reached_status, unsubscribe_requested ON public.contacts
  FOR EACH ROW WHEN (NEW.reached_status IS DISTINCT FROM OLD.reached_status
                     OR NEW.unsubscribe_requested IS DISTINCT FROM OLD.unsubscribe_requested)
  EXECUTE FUNCTION private.event_contact_changed();

-- contact.unsubscribed from one campaign.
CREATE FUNCTION private.event_campaign_unsubscribe() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  org uuid := (SELECT c.organization_id FROM public.campaigns c WHERE c.id = NEW.campaign_id);
BEGIN
  IF org IS NULL OR NOT private.has_webhooks(org) THEN
    RETURN NULL;
  END IF;
  PERFORM private.enqueue_event(org, 'contact.unsubscribed', jsonb_build_object(
    'contact', private.contact_summary(NEW.contact_id), 'scope', 'campaign',
    'campaign', private.campaign_summary(NEW.campaign_id), 'reason', NEW.reason));
  RETURN NULL;
END
$$;
CREATE TRIGGER campaign_unsubscribes_event AFTER INSERT ON public.campaign_unsubscribes
  FOR EACH ROW EXECUTE FUNCTION private.event_campaign_unsubscribe();

-- campaign.paused, with the reason (a circuit breaker's, or none: a person paused it).
CREATE FUNCTION private.event_campaign_paused() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  IF NOT private.has_webhooks(NEW.organization_id) THEN
    RETURN NULL;
  END IF;
  PERFORM private.enqueue_event(NEW.organization_id, 'campaign.paused', jsonb_build_object(
    'campaign', private.campaign_summary(NEW.id), 'reason', coalesce(NEW.paused_reason, 'paused by a person')));
  RETURN NULL;
END
$$;
CREATE TRIGGER campaigns_event AFTER UPDATE OF status ON public.campaigns
  FOR EACH ROW WHEN (NEW.status = 'paused' AND OLD.status IS DISTINCT FROM 'paused')
  EXECUTE FUNCTION private.event_campaign_paused();

-- mailbox.failing: a login or connection failure recorded on either side, or a breaker's pause.
CREATE FUNCTION private.event_mailbox_failing() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  side text := CASE WHEN NEW.smtp_error IS NOT NULL AND OLD.smtp_error IS NULL THEN 'smtp'
                    WHEN NEW.imap_error IS NOT NULL AND OLD.imap_error IS NULL THEN 'imap'
                    ELSE 'paused' END;
BEGIN
  IF NOT private.has_webhooks(NEW.organization_id) THEN
    RETURN NULL;
  END IF;
  PERFORM private.enqueue_event(NEW.organization_id, 'mailbox.failing', jsonb_build_object(
    'mailbox', jsonb_build_object('id', NEW.id, 'email', NEW.email),
    'side', side,
    'reason', CASE side WHEN 'smtp' THEN NEW.smtp_error WHEN 'imap' THEN NEW.imap_error ELSE NEW.paused_reason END));
  RETURN NULL;
END
$$;
CREATE TRIGGER mailboxes_event AFTER UPDATE OF smtp_error, imap_error, active ON public.mailboxes
  FOR EACH ROW WHEN ((NEW.smtp_error IS NOT NULL AND OLD.smtp_error IS NULL)
                     OR (NEW.imap_error IS NOT NULL AND OLD.imap_error IS NULL)
                     OR (OLD.active AND NOT NEW.active AND NEW.paused_reason IS NOT NULL))
  EXECUTE FUNCTION private.event_mailbox_failing();

-- draft.awaiting_review: once per sequence (its first step) stored as a draft.
CREATE FUNCTION private.event_draft() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  org uuid := (SELECT c.organization_id FROM public.campaigns c WHERE c.id = NEW.campaign_id);
BEGIN
  IF org IS NULL OR NOT private.has_webhooks(org) THEN
    RETURN NULL;
  END IF;
  PERFORM private.enqueue_event(org, 'draft.awaiting_review', jsonb_build_object(
    'flow_id', NEW.id, 'channel', NEW.flow_type, 'subject', NEW.subject,
    'contact', private.contact_summary(NEW.contact_id), 'campaign', private.campaign_summary(NEW.campaign_id)));
  RETURN NULL;
END
$$;
CREATE TRIGGER outreach_flows_draft_event AFTER INSERT ON public.outreach_flows
  FOR EACH ROW WHEN (NEW.status = 'draft' AND NEW.sequence_order = 0)
  EXECUTE FUNCTION private.event_draft();
CREATE TRIGGER outreach_flows_draft_event_update AFTER UPDATE OF status ON public.outreach_flows
  FOR EACH ROW WHEN (NEW.status = 'draft' AND OLD.status IS DISTINCT FROM 'draft' AND NEW.sequence_order = 0)
  EXECUTE FUNCTION private.event_draft();

-- The database webhook of deliver_events: once per transaction that wrote to the outbox, with
-- an empty body (deliver_events takes whatever is due). Built as public.dispatch_webhook
-- (migration …0800) builds its calls: pg_net with Vault's URL and secret on Supabase,
-- pg_notify on 'outreach_webhooks' elsewhere.
CREATE FUNCTION private.dispatch_deliver_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  base_url text;
  secret text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM inserted)
     OR current_setting('outreach.deliver_events_called', true) = txid_current()::text THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('outreach.deliver_events_called', txid_current()::text, true);
  IF to_regnamespace('net') IS NOT NULL AND to_regclass('vault.decrypted_secrets') IS NOT NULL THEN
    EXECUTE 'SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = $1'
      INTO base_url USING 'outreach_functions_url';
    EXECUTE 'SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = $1'
      INTO secret USING 'outreach_webhook_secret';
  END IF;
  IF base_url IS NOT NULL AND secret IS NOT NULL THEN
    EXECUTE 'SELECT net.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := $4)'
      USING rtrim(base_url, '/') || '/deliver_events', '{}'::jsonb,
            jsonb_build_object('Content-Type', 'application/json', 'X-Webhook-Secret', secret), 8000;
  ELSE
    PERFORM pg_notify('outreach_webhooks', jsonb_build_object('function', 'deliver_events', 'payload', '{}'::jsonb)::text);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER webhook_deliveries_webhook AFTER INSERT ON public.webhook_deliveries
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION private.dispatch_deliver_events();

REVOKE ALL ON FUNCTION private.webhook_event_types(), private.webhook_url_problem(text), private.remove_webhook(),
  private.enqueue_event(uuid, text, jsonb), private.has_webhooks(uuid), private.contact_summary(uuid),
  private.campaign_summary(uuid), private.event_reply_received(), private.event_contact_changed(),
  private.event_campaign_unsubscribe(), private.event_campaign_paused(), private.event_mailbox_failing(),
  private.event_draft(), private.dispatch_deliver_events() FROM PUBLIC;

-- Row level security and grants. Members read their organization's endpoints (never the
-- secret's id) and their deliveries; admins pause, resubscribe or remove an endpoint. Endpoints
-- are added through add_webhook only, which makes the secret.
ALTER TABLE public.webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.webhook_deliveries ENABLE ROW LEVEL SECURITY;

CREATE POLICY webhook_endpoints_select ON public.webhook_endpoints FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY webhook_endpoints_update ON public.webhook_endpoints FOR UPDATE TO authenticated
  USING (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]))
  WITH CHECK (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]));
CREATE POLICY webhook_endpoints_delete ON public.webhook_endpoints FOR DELETE TO authenticated
  USING (organization_id = ANY ((SELECT private.user_admin_organizations())::uuid[]));
CREATE POLICY webhook_deliveries_select ON public.webhook_deliveries FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));

REVOKE ALL ON public.webhook_endpoints, public.webhook_deliveries FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT (id, organization_id, url, events, active, created_at, updated_at)
  ON public.webhook_endpoints TO authenticated;
GRANT UPDATE (active) ON public.webhook_endpoints TO authenticated;
GRANT DELETE ON public.webhook_endpoints TO authenticated;
GRANT SELECT ON public.webhook_deliveries TO authenticated;
GRANT ALL ON public.webhook_endpoints, public.webhook_deliveries TO service_role;
