-- The whole current schema, made from supabase/migrations/ by `make schema`: never edit it by hand.
-- A new migration replaces a definition (CREATE OR REPLACE, DROP and CREATE) rather than wrapping
-- it; tests/integration/test_schema_file.py fails when this file and the migrations disagree.

CREATE SCHEMA private;

CREATE FUNCTION private.breaker_reason(attempts bigint, bounced bigint, complained bigint, limits jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
  SELECT CASE
    WHEN attempts < coalesce((limits ->> 'min_sent')::integer, 20) THEN NULL
    WHEN complained::numeric / attempts >= coalesce((limits ->> 'complaint_rate')::numeric, 0.001)
      THEN format('paused by the circuit breaker: %s complaints in %s messages of the last 7 days (limit %s%%)',
                  complained, attempts, round(coalesce((limits ->> 'complaint_rate')::numeric, 0.001) * 100, 2))
    WHEN bounced::numeric / attempts >= coalesce((limits ->> 'bounce_rate')::numeric, 0.05)
      THEN format('paused by the circuit breaker: %s hard bounces in %s messages of the last 7 days (limit %s%%)',
                  bounced, attempts, round(coalesce((limits ->> 'bounce_rate')::numeric, 0.05) * 100, 2))
  END
$$;

CREATE FUNCTION private.campaign_contact_changes() RETURNS TABLE(organization_id uuid, campaign_id uuid, status text, contact_unsubscribe_requested boolean, contact_reached_status text, n bigint, prompt_tokens bigint, completion_tokens bigint)
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $_$
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
$_$;

CREATE FUNCTION private.campaign_daily_cap(settings jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
  SELECT CASE
    WHEN NOT (settings ? 'daily_cap') THEN 200
    WHEN private.whole_number(settings -> 'daily_cap', 1, 10000) THEN (settings ->> 'daily_cap')::integer
  END
$$;

CREATE FUNCTION private.campaign_settings_problem(settings jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
DECLARE
  breaker jsonb := settings -> 'breaker';
BEGIN
  IF jsonb_typeof(settings) = 'object' AND jsonb_typeof(breaker) = 'object' AND breaker ? 'negative_reply_rate' THEN
    IF jsonb_typeof(breaker -> 'negative_reply_rate') IS DISTINCT FROM 'number'
       OR (breaker ->> 'negative_reply_rate')::numeric NOT BETWEEN 0 AND 1 THEN
      RETURN 'ai_settings.breaker.negative_reply_rate is a number from 0 to 1';
    END IF;
    RETURN private.campaign_settings_problem_before_reply_breaker(
      jsonb_set(settings, '{breaker}', breaker - 'negative_reply_rate'));
  END IF;
  RETURN private.campaign_settings_problem_before_reply_breaker(settings);
END
$$;

CREATE FUNCTION private.campaign_settings_problem_before_guardrails(settings jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $_$
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
$_$;

CREATE FUNCTION private.campaign_settings_problem_before_mailboxes(settings jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $_$
DECLARE
  name text;
  step jsonb;
  window_ jsonb;
  day jsonb;
  previous integer := -1;
BEGIN
  IF jsonb_typeof(settings) IS DISTINCT FROM 'object' THEN
    RETURN 'ai_settings must be a JSON object';
  END IF;
  name := private.unknown_key(settings, ARRAY['steps', 'sending_window', 'daily_cap', 'review_before_send',
                                               'sender_name', 'sender_email', 'public_name', 'format']);
  IF name IS NOT NULL THEN
    RETURN format('ai_settings.%s is not a known setting', name);
  END IF;

  IF settings ? 'steps' THEN
    IF jsonb_typeof(settings -> 'steps') IS DISTINCT FROM 'array'
       OR jsonb_array_length(settings -> 'steps') NOT BETWEEN 1 AND 10 THEN
      RETURN 'ai_settings.steps must be a list of 1 to 10 steps';
    END IF;
    FOR step IN SELECT jsonb_array_elements(settings -> 'steps') LOOP
      IF jsonb_typeof(step) IS DISTINCT FROM 'object'
         OR (SELECT array_agg(k) FROM jsonb_object_keys(step) k) IS DISTINCT FROM ARRAY['delay_days']
         OR NOT private.whole_number(step -> 'delay_days', 0, 90) THEN
        RETURN 'ai_settings.steps: each step is {"delay_days": a whole number from 0 to 90}';
      END IF;
      IF (step ->> 'delay_days')::integer <= previous THEN
        RETURN 'ai_settings.steps: step delays must increase';
      END IF;
      previous := (step ->> 'delay_days')::integer;
    END LOOP;
  END IF;

  IF settings ? 'sending_window' THEN
    window_ := settings -> 'sending_window';
    IF jsonb_typeof(window_) IS DISTINCT FROM 'object' THEN
      RETURN 'ai_settings.sending_window must be an object';
    END IF;
    name := private.unknown_key(window_, ARRAY['days', 'start_hour', 'end_hour', 'timezone']);
    IF name IS NOT NULL THEN
      RETURN format('ai_settings.sending_window.%s is not a known setting', name);
    END IF;
    IF window_ ? 'days' THEN
      IF jsonb_typeof(window_ -> 'days') IS DISTINCT FROM 'array'
         OR jsonb_array_length(window_ -> 'days') NOT BETWEEN 1 AND 7 THEN
        RETURN 'ai_settings.sending_window.days must list 1 to 7 days';
      END IF;
      FOR day IN SELECT jsonb_array_elements(window_ -> 'days') LOOP
        IF jsonb_typeof(day) IS DISTINCT FROM 'string'
           OR (day #>> '{}') NOT IN ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun') THEN
          RETURN 'ai_settings.sending_window.days: each day is one of mon, tue, wed, thu, fri, sat, sun';
        END IF;
      END LOOP;
    END IF;
    IF window_ ? 'start_hour' AND NOT private.whole_number(window_ -> 'start_hour', 0, 23) THEN
      RETURN 'ai_settings.sending_window.start_hour must be a whole number from 0 to 23';
    END IF;
    IF window_ ? 'end_hour' AND NOT private.whole_number(window_ -> 'end_hour', 1, 24) THEN
      RETURN 'ai_settings.sending_window.end_hour must be a whole number from 1 to 24';
    END IF;
    IF coalesce((window_ ->> 'end_hour')::integer, 17) <= coalesce((window_ ->> 'start_hour')::integer, 9) THEN
      RETURN 'ai_settings.sending_window: end_hour must be after start_hour';
    END IF;
    IF window_ ? 'timezone' AND (
         jsonb_typeof(window_ -> 'timezone') IS DISTINCT FROM 'string'
         OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name = window_ ->> 'timezone')) THEN
      RETURN 'ai_settings.sending_window.timezone must be an IANA time zone such as Europe/Madrid';
    END IF;
  END IF;

  IF settings ? 'daily_cap' AND NOT private.whole_number(settings -> 'daily_cap', 1, 10000) THEN
    RETURN 'ai_settings.daily_cap must be a whole number from 1 to 10000';
  END IF;
  IF settings ? 'review_before_send' AND jsonb_typeof(settings -> 'review_before_send') IS DISTINCT FROM 'boolean' THEN
    RETURN 'ai_settings.review_before_send must be true or false';
  END IF;
  IF settings ? 'format' AND (jsonb_typeof(settings -> 'format') IS DISTINCT FROM 'string'
                               OR (settings ->> 'format') NOT IN ('html', 'text')) THEN
    RETURN 'ai_settings.format must be "html" or "text"';
  END IF;
  IF settings ? 'sender_name' AND NOT private.plain_name(settings -> 'sender_name') THEN
    RETURN 'ai_settings.sender_name must be a plain name on one line, 1 to 100 characters, without <, > or quotes';
  END IF;
  IF settings ? 'public_name' AND NOT private.plain_name(settings -> 'public_name') THEN
    RETURN 'ai_settings.public_name must be a plain name on one line, 1 to 100 characters, without <, > or quotes';
  END IF;
  IF settings ? 'sender_email' AND jsonb_typeof(settings -> 'sender_email') <> 'null' AND (
       jsonb_typeof(settings -> 'sender_email') IS DISTINCT FROM 'string'
       OR (settings ->> 'sender_email') !~ '^[A-Za-z0-9.!#$%&''*+/=?^_`{|}~-]+@[^@\s]+\.[^@\s.]+$') THEN
    RETURN 'ai_settings.sender_email must be an email address whose part before the @ is plain ASCII';
  END IF;
  RETURN NULL;
END
$_$;

CREATE FUNCTION private.campaign_settings_problem_before_reply_breaker(settings jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
DECLARE
  breaker jsonb := settings -> 'breaker';
  rest jsonb := settings;
BEGIN
  IF jsonb_typeof(settings) IS DISTINCT FROM 'object' THEN
    RETURN private.campaign_settings_problem_before_guardrails(settings);
  END IF;
  IF settings ? 'channels' THEN
    IF jsonb_typeof(settings -> 'channels') IS DISTINCT FROM 'array'
       OR jsonb_array_length(settings -> 'channels') NOT BETWEEN 1 AND 2
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(settings -> 'channels') c
                  WHERE jsonb_typeof(c) IS DISTINCT FROM 'string' OR c #>> '{}' NOT IN ('email', 'form'))
       OR (SELECT count(DISTINCT c) FROM jsonb_array_elements(settings -> 'channels') c)
          <> jsonb_array_length(settings -> 'channels') THEN
      RETURN 'ai_settings.channels is ["email"], ["form"] or ["email", "form"]';
    END IF;
    rest := rest - 'channels';
  END IF;
  IF settings ? 'per_company' THEN
    IF NOT private.whole_number(settings -> 'per_company', 1, 50) THEN
      RETURN 'ai_settings.per_company must be a whole number from 1 to 50';
    END IF;
    rest := rest - 'per_company';
  END IF;
  IF settings ? 'breaker' THEN
    IF jsonb_typeof(breaker) IS DISTINCT FROM 'object'
       OR private.unknown_key(breaker, ARRAY['bounce_rate', 'complaint_rate', 'min_sent']) IS NOT NULL THEN
      RETURN 'ai_settings.breaker is {"bounce_rate", "complaint_rate", "min_sent"}';
    END IF;
    IF (breaker ? 'bounce_rate' AND (jsonb_typeof(breaker -> 'bounce_rate') IS DISTINCT FROM 'number'
                                     OR (breaker ->> 'bounce_rate')::numeric NOT BETWEEN 0 AND 1))
       OR (breaker ? 'complaint_rate' AND (jsonb_typeof(breaker -> 'complaint_rate') IS DISTINCT FROM 'number'
                                           OR (breaker ->> 'complaint_rate')::numeric NOT BETWEEN 0 AND 1)) THEN
      RETURN 'ai_settings.breaker: bounce_rate and complaint_rate are numbers from 0 to 1';
    END IF;
    IF breaker ? 'min_sent' AND NOT private.whole_number(breaker -> 'min_sent', 1, 100000) THEN
      RETURN 'ai_settings.breaker.min_sent must be a whole number from 1 to 100000';
    END IF;
    rest := rest - 'breaker';
  END IF;
  IF jsonb_typeof(settings -> 'sending_window') = 'object'
     AND settings -> 'sending_window' -> 'timezone' = '"recipient"' THEN
    rest := jsonb_set(rest, '{sending_window}', (settings -> 'sending_window') - 'timezone');
  END IF;
  RETURN private.campaign_settings_problem_before_guardrails(rest);
END
$$;

CREATE FUNCTION private.campaign_summary(campaign_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  SELECT jsonb_build_object('id', c.id, 'name', c.campaign_name)
  FROM public.campaigns c WHERE c.id = campaign_id
$$;

CREATE FUNCTION private.cancel_completed_campaign() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
BEGIN
  UPDATE public.outreach_flows
  SET status = 'canceled', status_reason = 'canceled: the campaign is completed'
  WHERE campaign_id = NEW.id AND status IN ('draft', 'scheduled');
  RETURN NULL;
END
$$;

CREATE FUNCTION private.check_campaign_settings() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
DECLARE
  problem text := private.campaign_settings_problem(NEW.ai_settings);
  sender text := NEW.ai_settings ->> 'sender_email';
BEGIN
  IF problem IS NULL AND sender IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM public.sender_domains d
       WHERE d.organization_id = NEW.organization_id AND d.domain = lower(split_part(sender, '@', 2))) THEN
    problem := format('ai_settings.sender_email: %s is not a sending domain of this organization',
                      lower(split_part(sender, '@', 2)));
  END IF;
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = 'invalid ' || problem;
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION private.clear_paused_reason() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
BEGIN
  NEW.paused_reason := NULL;
  RETURN NEW;
END
$$;

CREATE FUNCTION private.contact_source_same_organization() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.contact_summary(contact_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  SELECT jsonb_build_object('id', ct.id, 'email', ct.email, 'name', ct.name)
  FROM public.contacts ct WHERE ct.id = contact_id
$$;

CREATE FUNCTION private.copy_contact_state() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
BEGIN
  SELECT ct.unsubscribe_requested, ct.reached_status
  INTO NEW.contact_unsubscribe_requested, NEW.contact_reached_status
  FROM public.contacts ct WHERE ct.id = NEW.contact_id
  FOR SHARE;
  RETURN NEW;
END
$$;

CREATE FUNCTION private.dispatch_deliver_events() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
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
$_$;

CREATE FUNCTION private.enqueue_event(org uuid, event_type text, data jsonb) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  INSERT INTO public.webhook_deliveries (organization_id, endpoint_id, event_type, payload)
  SELECT enqueue_event.org, e.id, enqueue_event.event_type,
         jsonb_build_object('type', enqueue_event.event_type,
                            'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                            'data', enqueue_event.data)
  FROM public.webhook_endpoints e
  WHERE e.organization_id = enqueue_event.org AND e.active AND enqueue_event.event_type = ANY (e.events)
$$;

CREATE FUNCTION private.event_campaign_paused() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
BEGIN
  IF NOT private.has_webhooks(NEW.organization_id) THEN
    RETURN NULL;
  END IF;
  PERFORM private.enqueue_event(NEW.organization_id, 'campaign.paused', jsonb_build_object(
    'campaign', private.campaign_summary(NEW.id), 'reason', coalesce(NEW.paused_reason, 'paused by a person')));
  RETURN NULL;
END
$$;

CREATE FUNCTION private.event_campaign_unsubscribe() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.event_contact_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.event_draft() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.event_mailbox_failing() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.event_reply_received() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.flow_changes() RETURNS TABLE(organization_id uuid, campaign_id uuid, sequence_order integer, mailbox_id uuid, status text, n bigint)
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $_$
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
$_$;

CREATE FUNCTION private.forget_tallied_campaign_contact() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.forget_tallied_flow() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.has_webhooks(org uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  SELECT EXISTS (SELECT 1 FROM public.webhook_endpoints e WHERE e.organization_id = org AND e.active)
$$;

CREATE FUNCTION private.keep_opt_outs() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.limit_daily_send_cap() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
BEGIN
  IF current_user IN ('authenticated', 'anon') AND NEW.daily_send_cap > 10000 THEN
    RAISE EXCEPTION 'daily_send_cap is at most 10000 (ask the operator for more)'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION private.mailbox_cap(daily_cap integer, ramp_start integer, ramp_step integer, added timestamp with time zone) RETURNS integer
    LANGUAGE sql STABLE
    AS $$
  SELECT CASE
    WHEN ramp_start IS NULL THEN daily_cap
    ELSE least(daily_cap, ramp_start + ramp_step * floor(extract(epoch FROM now() - added) / 86400)::integer)
  END
$$;

CREATE FUNCTION private.mailbox_url_problem(url text, kind text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
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
$_$;

CREATE FUNCTION private.my_organizations(role text DEFAULT NULL::text) RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(m.organization_id), '{}')
          FROM public.organization_members m
          WHERE m.user_id = auth.uid() AND (my_organizations.role IS NULL OR m.role = my_organizations.role));
END
$$;

CREATE FUNCTION private.negative_reply_reason(campaign uuid, limits jsonb) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  WITH firsts AS (
    SELECT count(*) AS n FROM public.outreach_flows f
    WHERE f.campaign_id = campaign AND f.sequence_order = 0 AND f.flow_type <> 'reply'
      AND (f.status = 'sent' OR (f.status = 'sending' AND f.message_id IS NOT NULL))
  ), negatives AS (
    SELECT count(*) AS n FROM (
      SELECT m.contact_id FROM public.inbound_messages m
      WHERE m.campaign_id = campaign AND m.contact_id IS NOT NULL
        AND (m.intent IN ('not_interested', 'unsubscribe') OR (m.kind = 'stop_request' AND m.intent IS NULL))
      UNION
      SELECT u.contact_id FROM public.campaign_unsubscribes u WHERE u.campaign_id = campaign) x
  )
  SELECT format('paused by the negative-reply breaker: %s not-interested replies and unsubscribes for %s first messages (limit %s%%)',
                negatives.n, firsts.n, round(coalesce((limits ->> 'negative_reply_rate')::numeric, 0.1) * 100, 2))
  FROM firsts, negatives
  WHERE firsts.n >= coalesce((limits ->> 'min_sent')::integer, 20)
    AND negatives.n::numeric / firsts.n >= coalesce((limits ->> 'negative_reply_rate')::numeric, 0.1)
$$;

CREATE FUNCTION private.plain_name(value jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  SELECT value IS NULL OR jsonb_typeof(value) = 'null'
      OR (jsonb_typeof(value) = 'string' AND char_length(value #>> '{}') BETWEEN 1 AND 100
          AND (value #>> '{}') !~ '[[:cntrl:]<>"]' AND (value #>> '{}') ~ '\S')
$$;

CREATE FUNCTION private.recent_attempts(campaign uuid, mailbox uuid, OUT attempts bigint, OUT bounced bigint, OUT complained bigint) RETURNS record
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  SELECT count(*), count(*) FILTER (WHERE ct.reached_status = 'bounced'),
         count(*) FILTER (WHERE ct.reached_status = 'complained')
  FROM public.outreach_flows f JOIN public.contacts ct ON ct.id = f.contact_id
  WHERE (f.campaign_id = campaign OR f.mailbox_id = mailbox)
    AND (f.status = 'sent' OR (f.status = 'sending' AND f.message_id IS NOT NULL)
         OR (f.status = 'failed' AND f.status_reason LIKE 'hard bounce:%'))
    AND coalesce(f.sent_at, f.scheduled_send_time) > now() - interval '7 days'
$$;

CREATE FUNCTION private.refresh_campaign_stats() RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.remove_mailbox() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.remove_webhook() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
BEGIN
  DELETE FROM vault.secrets s WHERE s.id = OLD.secret_id;
  RETURN OLD;
END
$$;

CREATE FUNCTION private.scrape_result_organization() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
BEGIN
  SELECT organization_id INTO NEW.organization_id FROM public.search_tasks WHERE id = NEW.search_task_id;
  RETURN NEW;
END
$$;

CREATE FUNCTION private.search_task_organization() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
BEGIN
  SELECT organization_id INTO NEW.organization_id FROM public.campaigns WHERE id = NEW.campaign_id;
  RETURN NEW;
END
$$;

CREATE FUNCTION private.share_contact_state() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION private.stamp_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id();
  IF TG_OP = 'UPDATE' THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION private.stop_the_company() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
DECLARE
  company text := lower(split_part(NEW.email, '@', 2));
BEGIN
  IF EXISTS (SELECT 1 FROM public.public_mail_domains d WHERE d.domain = company) THEN
    RETURN NULL;
  END IF;
  UPDATE public.outreach_flows f
  SET status = 'canceled', lease_expires_at = NULL,
      status_reason = 'canceled: someone at ' || company || ' ' || CASE NEW.reached_status
        WHEN 'responded' THEN 'replied' WHEN 'bounced' THEN 'bounced' WHEN 'complained' THEN 'complained'
        ELSE 'unsubscribed' END
  FROM public.contacts other
  WHERE f.contact_id = other.id AND other.organization_id = NEW.organization_id AND other.id <> NEW.id
    AND lower(split_part(other.email, '@', 2)) = company
    AND f.status IN ('draft', 'scheduled')
    AND f.campaign_id IN (SELECT x.campaign_id FROM public.campaign_contacts x WHERE x.contact_id = NEW.id);
  RETURN NULL;
END
$$;

CREATE FUNCTION private.stop_the_company_in_campaign() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
DECLARE
  person public.contacts;
  company text;
BEGIN
  SELECT * INTO person FROM public.contacts WHERE id = NEW.contact_id;
  company := lower(split_part(person.email, '@', 2));
  IF EXISTS (SELECT 1 FROM public.public_mail_domains d WHERE d.domain = company) THEN
    RETURN NULL;
  END IF;
  UPDATE public.outreach_flows f
  SET status = 'canceled', lease_expires_at = NULL,
      status_reason = 'canceled: someone at ' || company || ' unsubscribed from this campaign'
  FROM public.contacts other
  WHERE f.contact_id = other.id AND other.organization_id = person.organization_id AND other.id <> person.id
    AND lower(split_part(other.email, '@', 2)) = company
    AND f.status IN ('draft', 'scheduled') AND f.campaign_id = NEW.campaign_id;
  RETURN NULL;
END
$$;

CREATE FUNCTION private.system_states_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
BEGIN
  IF current_user IN ('authenticated', 'anon') AND NEW.reached_status IN ('bounced', 'complained')
     AND OLD.reached_status IS DISTINCT FROM NEW.reached_status THEN
    RAISE EXCEPTION 'reached_status % is set only by the system (a bounce or complaint report)', NEW.reached_status
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION private.track_sender_domain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
DECLARE
  sending text;
BEGIN
  IF TG_TABLE_NAME = 'mailboxes' THEN
    sending := split_part(NEW.email, '@', 2);
  ELSIF NEW.status = 'active' AND NEW.ai_settings ? 'sender_email' THEN
    sending := lower(split_part(NEW.ai_settings ->> 'sender_email', '@', 2));
  END IF;
  IF length(sending) BETWEEN 1 AND 253 THEN
    INSERT INTO public.sender_domain_checks (organization_id, domain) VALUES (NEW.organization_id, sending)
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION private.trip_breakers() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
DECLARE
  target record;
  reason text;
BEGIN
  FOR target IN
    SELECT DISTINCT c.id, c.ai_settings -> 'breaker' AS limits
    FROM public.outreach_flows f JOIN public.campaigns c ON c.id = f.campaign_id
    WHERE f.contact_id = NEW.id AND c.status = 'active'
  LOOP
    SELECT private.breaker_reason(r.attempts, r.bounced, r.complained, target.limits) INTO reason
    FROM private.recent_attempts(target.id, NULL) r;
    IF reason IS NOT NULL THEN
      UPDATE public.campaigns SET status = 'paused', paused_reason = reason WHERE id = target.id;
    END IF;
  END LOOP;

  FOR target IN
    SELECT DISTINCT m.id FROM public.outreach_flows f JOIN public.mailboxes m ON m.id = f.mailbox_id
    WHERE f.contact_id = NEW.id AND m.active
  LOOP
    SELECT private.breaker_reason(r.attempts, r.bounced, r.complained, NULL) INTO reason
    FROM private.recent_attempts(NULL, target.id) r;
    IF reason IS NOT NULL THEN
      UPDATE public.mailboxes SET active = false, paused_reason = reason WHERE id = target.id;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;

CREATE FUNCTION private.trip_negative_reply_breaker() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
DECLARE
  reason text;
  limits jsonb;
BEGIN
  SELECT c.ai_settings -> 'breaker' INTO limits FROM public.campaigns c
  WHERE c.id = NEW.campaign_id AND c.status = 'active';
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  reason := private.negative_reply_reason(NEW.campaign_id, limits);
  IF reason IS NOT NULL THEN
    UPDATE public.campaigns SET status = 'paused', paused_reason = reason WHERE id = NEW.campaign_id AND status = 'active';
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION private.trip_refusal_breaker() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
DECLARE
  attempts bigint := (SELECT r.attempts FROM private.recent_attempts(NULL, NEW.mailbox_id) r);
  refused bigint := (
    SELECT count(*) FROM public.outreach_flows f
    WHERE f.mailbox_id = NEW.mailbox_id AND f.status = 'failed' AND f.refused_by_policy
      AND coalesce(f.sent_at, f.scheduled_send_time) > now() - interval '7 days');
BEGIN
  attempts := attempts + refused;
  IF attempts >= 20 AND refused::numeric / attempts >= 0.05 THEN
    UPDATE public.mailboxes
    SET active = false,
        paused_reason = format('paused by the circuit breaker: %s messages refused by the receiving servers'' policy'
                               ' (5.7.x: the sending IP, the domain''s authentication or the content) in %s messages'
                               ' of the last 7 days (limit 5%%)', refused, attempts)
    WHERE id = NEW.mailbox_id AND active;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION private.unknown_key(value jsonb, known text[]) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  SELECT k FROM jsonb_object_keys(value) k WHERE k <> ALL (known) ORDER BY k LIMIT 1
$$;

CREATE FUNCTION private.user_admin_organizations() RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
BEGIN
  RETURN private.my_organizations('admin');
END
$$;

CREATE FUNCTION private.user_organizations() RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
BEGIN
  RETURN private.my_organizations();
END
$$;

CREATE FUNCTION private.webhook_event_types() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$
  SELECT ARRAY['reply.received', 'contact.bounced', 'contact.unsubscribed', 'campaign.paused',
               'mailbox.failing', 'draft.awaiting_review']
$$;

CREATE FUNCTION private.webhook_url_problem(url text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
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
$_$;

CREATE FUNCTION private.whole_number(value jsonb, low integer, high integer) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $_$
  SELECT CASE
    WHEN jsonb_typeof(value) = 'number' AND value::text ~ '^-?[0-9]{1,9}$'
      THEN value::text::integer BETWEEN low AND high
    ELSE false
  END
$_$;

CREATE FUNCTION private.without_password(url text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
  SELECT regexp_replace(url, '^([a-z]+://[^:@/?#]+):[^@/?#]*@', '\1@')
$$;

CREATE FUNCTION public.add_contacts(organization_id uuid, contacts jsonb, campaign_id uuid DEFAULT NULL::uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
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
$_$;

CREATE FUNCTION public.add_mailbox(organization_id uuid, email text, smtp_url text, imap_url text DEFAULT NULL::text, daily_cap integer DEFAULT 50) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
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
$_$;

CREATE FUNCTION public.add_webhook(organization_id uuid, url text, events text[]) RETURNS TABLE(id uuid, secret text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.contact_data(organization_id uuid, email text) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.contact_data_by_id(contact_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.dispatch_webhook() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
DECLARE
  target text := TG_ARGV[0];
  payload jsonb := jsonb_build_object(
    'type', TG_OP, 'table', TG_TABLE_NAME, 'schema', TG_TABLE_SCHEMA,
    'record', to_jsonb(NEW), 'old_record', NULL);
  base_url text;
  secret text;
BEGIN
  IF to_regnamespace('net') IS NOT NULL AND to_regclass('vault.decrypted_secrets') IS NOT NULL THEN
    EXECUTE 'SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = $1'
      INTO base_url USING 'outreach_functions_url';
    EXECUTE 'SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = $1'
      INTO secret USING 'outreach_webhook_secret';
  END IF;
  IF base_url IS NOT NULL AND secret IS NOT NULL THEN
    EXECUTE 'SELECT net.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := $4)'
      USING rtrim(base_url, '/') || '/' || target, payload,
            jsonb_build_object('Content-Type', 'application/json', 'X-Webhook-Secret', secret), 8000;
  ELSE
    -- NOTIFY payloads are capped at 8000 bytes; the functions need only the row's key.
    IF octet_length(payload::text) > 7500 THEN
      payload := jsonb_set(payload, '{record}', (SELECT jsonb_object_agg(k, v) FROM jsonb_each(payload -> 'record') e(k, v)
                                                 WHERE k IN ('id', 'campaign_id', 'contact_id')));
    END IF;
    PERFORM pg_notify('outreach_webhooks', jsonb_build_object('function', target, 'payload', payload)::text);
  END IF;
  RETURN NEW;
END
$_$;

CREATE FUNCTION public.ensure_same_organization() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.search_contacts(organization_id uuid, prefix text, max_rows integer DEFAULT 50) RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE FUNCTION public.suppression_reason(contact uuid, campaign uuid) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
DECLARE
  everything boolean;
  reached text;
BEGIN
  SELECT ct.unsubscribe_requested, ct.reached_status INTO everything, reached
  FROM public.contacts ct WHERE ct.id = contact;
  IF NOT FOUND THEN
    RETURN NULL;
  ELSIF everything OR reached = 'unsubscribed' THEN
    RETURN 'the contact unsubscribed from everything the organization sends';
  ELSIF reached = 'bounced' THEN
    RETURN 'the address bounced';
  ELSIF reached = 'complained' THEN
    RETURN 'the contact complained';
  ELSIF reached = 'responded' THEN
    RETURN 'the contact replied';
  ELSIF EXISTS (SELECT 1 FROM public.campaign_unsubscribes u WHERE u.contact_id = contact AND u.campaign_id = campaign) THEN
    RETURN 'the contact unsubscribed from this campaign';
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION public.suppression_reason(contact uuid, campaign uuid, flow_type text) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
DECLARE
  everything boolean;
  reached text;
BEGIN
  IF flow_type IS DISTINCT FROM 'reply' THEN
    RETURN public.suppression_reason(contact, campaign);
  END IF;
  SELECT ct.unsubscribe_requested, ct.reached_status INTO everything, reached
  FROM public.contacts ct WHERE ct.id = contact;
  IF NOT FOUND OR reached IS DISTINCT FROM 'responded' THEN
    RETURN public.suppression_reason(contact, campaign);
  ELSIF everything THEN
    RETURN 'the contact unsubscribed from everything the organization sends';
  ELSIF EXISTS (SELECT 1 FROM public.campaign_unsubscribes u WHERE u.contact_id = contact AND u.campaign_id = campaign) THEN
    RETURN 'the contact unsubscribed from this campaign';
  END IF;
  RETURN NULL;
END
$$;

CREATE TABLE private.campaign_contact_rollup (
    organization_id uuid NOT NULL,
    campaign_id uuid NOT NULL,
    status text NOT NULL,
    n bigint NOT NULL,
    prompt_tokens bigint NOT NULL,
    completion_tokens bigint NOT NULL,
    contact_unsubscribe_requested boolean DEFAULT false NOT NULL,
    contact_reached_status text DEFAULT 'pending'::text NOT NULL
);

CREATE TABLE private.campaign_contact_tally (
    campaign_id uuid NOT NULL,
    contact_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    status text NOT NULL,
    prompt_tokens bigint NOT NULL,
    completion_tokens bigint NOT NULL,
    contact_unsubscribe_requested boolean DEFAULT false NOT NULL,
    contact_reached_status text DEFAULT 'pending'::text NOT NULL
);

CREATE TABLE private.flow_rollup (
    organization_id uuid NOT NULL,
    campaign_id uuid NOT NULL,
    sequence_order integer NOT NULL,
    mailbox_id uuid,
    status text NOT NULL,
    n bigint NOT NULL
);

CREATE TABLE private.flow_tally (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    campaign_id uuid NOT NULL,
    sequence_order integer NOT NULL,
    mailbox_id uuid,
    status text NOT NULL
);

CREATE TABLE private.stats_watermarks (
    source text NOT NULL,
    xid xid8 NOT NULL
);

CREATE TABLE public.campaign_contacts (
    campaign_id uuid NOT NULL,
    contact_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    status_reason text,
    lease_expires_at timestamp with time zone,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    drafted_with text,
    prompt_tokens integer DEFAULT 0 NOT NULL,
    completion_tokens integer DEFAULT 0 NOT NULL,
    organization_id uuid NOT NULL,
    change_xid xid8 DEFAULT pg_current_xact_id(),
    contact_unsubscribe_requested boolean DEFAULT false NOT NULL,
    contact_reached_status text DEFAULT 'pending'::text NOT NULL,
    CONSTRAINT campaign_contacts_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT campaign_contacts_completion_tokens_check CHECK ((completion_tokens >= 0)),
    CONSTRAINT campaign_contacts_prompt_tokens_check CHECK ((prompt_tokens >= 0)),
    CONSTRAINT campaign_contacts_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'drafting'::text, 'drafted'::text, 'failed'::text, 'skipped'::text])))
);

COMMENT ON COLUMN public.campaign_contacts.contact_unsubscribe_requested IS 'The contact''s unsubscribe_requested, copied by trigger so the campaign''s figures count it from the rollup.';

COMMENT ON COLUMN public.campaign_contacts.contact_reached_status IS 'The contact''s reached_status, copied by trigger so the campaign''s figures count it from the rollup.';

CREATE VIEW public.campaign_flow_counts WITH (security_invoker='true') AS
 SELECT organization_id,
    campaign_id,
    sequence_order,
    mailbox_id,
    status,
    (sum(n))::bigint AS n
   FROM ( SELECT r.organization_id,
            r.campaign_id,
            r.sequence_order,
            r.mailbox_id,
            r.status,
            r.n
           FROM private.flow_rollup r
        UNION ALL
         SELECT flow_changes.organization_id,
            flow_changes.campaign_id,
            flow_changes.sequence_order,
            flow_changes.mailbox_id,
            flow_changes.status,
            flow_changes.n
           FROM private.flow_changes() flow_changes(organization_id, campaign_id, sequence_order, mailbox_id, status, n)) counted
  GROUP BY organization_id, campaign_id, sequence_order, mailbox_id, status
 HAVING (sum(n) <> (0)::numeric);

CREATE TABLE public.campaigns (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    campaign_name text NOT NULL,
    instructions text,
    tone text,
    word_limit integer,
    ai_settings jsonb DEFAULT '{}'::jsonb NOT NULL,
    default_language text,
    status text DEFAULT 'active'::text NOT NULL,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    paused_reason text,
    CONSTRAINT campaigns_ai_settings_object CHECK ((jsonb_typeof(ai_settings) = 'object'::text)),
    CONSTRAINT campaigns_status_check CHECK ((status = ANY (ARRAY['active'::text, 'paused'::text, 'completed'::text]))),
    CONSTRAINT campaigns_word_limit_check CHECK (((word_limit IS NULL) OR ((word_limit >= 20) AND (word_limit <= 1000))))
);

CREATE TABLE public.inbound_messages (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    mailbox_id uuid,
    contact_id uuid,
    campaign_id uuid,
    flow_id uuid,
    kind text NOT NULL,
    from_address text,
    subject text,
    sent_at timestamp with time zone,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    snippet text,
    return_date date,
    bounced_address text,
    fingerprint text NOT NULL,
    intent text,
    intent_confidence real,
    intent_evidence text,
    intent_by text,
    needs_review boolean DEFAULT false NOT NULL,
    follow_up_on date,
    next_step text,
    next_flow_id uuid,
    referred_contact_id uuid,
    CONSTRAINT inbound_messages_intent_by_check CHECK ((length(intent_by) <= 120)),
    CONSTRAINT inbound_messages_intent_check CHECK ((intent = ANY (ARRAY['interested'::text, 'meeting_request'::text, 'question'::text, 'not_now'::text, 'not_interested'::text, 'wrong_person'::text, 'referral'::text, 'unsubscribe'::text, 'auto_reply'::text, 'bounce'::text, 'other'::text]))),
    CONSTRAINT inbound_messages_intent_confidence_check CHECK (((intent_confidence >= (0)::double precision) AND (intent_confidence <= (1)::double precision))),
    CONSTRAINT inbound_messages_intent_evidence_check CHECK ((length(intent_evidence) <= 300)),
    CONSTRAINT inbound_messages_kind_check CHECK ((kind = ANY (ARRAY['reply'::text, 'auto_reply'::text, 'bounce'::text, 'stop_request'::text]))),
    CONSTRAINT inbound_messages_next_step_check CHECK ((length(next_step) <= 300))
);

CREATE VIEW public.campaign_reply_stats WITH (security_invoker='true') AS
 SELECT c.id AS campaign_id,
    c.organization_id,
    COALESCE(m.interested, (0)::bigint) AS interested,
    COALESCE(m.meeting_request, (0)::bigint) AS meeting_request,
    COALESCE(m.question, (0)::bigint) AS question,
    COALESCE(m.not_now, (0)::bigint) AS not_now,
    COALESCE(m.not_interested, (0)::bigint) AS not_interested,
    COALESCE(m.wrong_person, (0)::bigint) AS wrong_person,
    COALESCE(m.referral, (0)::bigint) AS referral,
    COALESCE(m.unsubscribe, (0)::bigint) AS unsubscribe,
    COALESCE(m.auto_reply, (0)::bigint) AS auto_reply,
    COALESCE(m.bounce, (0)::bigint) AS bounce,
    COALESCE(m.other, (0)::bigint) AS other,
    COALESCE(m.needs_review, (0)::bigint) AS needs_review,
    COALESCE(m.human_replies, (0)::bigint) AS human_replies,
    COALESCE(f.first_messages_sent, (0)::bigint) AS first_messages_sent,
        CASE
            WHEN (COALESCE(f.first_messages_sent, (0)::bigint) > 0) THEN round(((COALESCE(m.human_replies, (0)::bigint))::numeric / (f.first_messages_sent)::numeric), 4)
            ELSE NULL::numeric
        END AS reply_rate
   FROM ((public.campaigns c
     LEFT JOIN LATERAL ( SELECT count(*) FILTER (WHERE (x.intent = 'interested'::text)) AS interested,
            count(*) FILTER (WHERE (x.intent = 'meeting_request'::text)) AS meeting_request,
            count(*) FILTER (WHERE (x.intent = 'question'::text)) AS question,
            count(*) FILTER (WHERE (x.intent = 'not_now'::text)) AS not_now,
            count(*) FILTER (WHERE (x.intent = 'not_interested'::text)) AS not_interested,
            count(*) FILTER (WHERE (x.intent = 'wrong_person'::text)) AS wrong_person,
            count(*) FILTER (WHERE (x.intent = 'referral'::text)) AS referral,
            count(*) FILTER (WHERE (x.intent = 'unsubscribe'::text)) AS unsubscribe,
            count(*) FILTER (WHERE ((x.intent = 'auto_reply'::text) OR ((x.intent IS NULL) AND (x.kind = 'auto_reply'::text)))) AS auto_reply,
            count(*) FILTER (WHERE ((x.intent = 'bounce'::text) OR ((x.intent IS NULL) AND (x.kind = 'bounce'::text)))) AS bounce,
            count(*) FILTER (WHERE (x.intent = 'other'::text)) AS other,
            count(*) FILTER (WHERE x.needs_review) AS needs_review,
            count(DISTINCT x.contact_id) FILTER (WHERE ((x.kind = ANY (ARRAY['reply'::text, 'stop_request'::text])) AND (x.intent IS DISTINCT FROM 'auto_reply'::text) AND (x.intent IS DISTINCT FROM 'bounce'::text))) AS human_replies
           FROM public.inbound_messages x
          WHERE (x.campaign_id = c.id)) m ON (true))
     LEFT JOIN ( SELECT campaign_flow_counts.campaign_id,
            campaign_flow_counts.organization_id,
            (sum(campaign_flow_counts.n))::bigint AS first_messages_sent
           FROM public.campaign_flow_counts
          WHERE ((campaign_flow_counts.sequence_order = 0) AND (campaign_flow_counts.status = 'sent'::text))
          GROUP BY campaign_flow_counts.campaign_id, campaign_flow_counts.organization_id) f ON (((f.campaign_id = c.id) AND (f.organization_id = c.organization_id))));

CREATE TABLE public.mailboxes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    email text NOT NULL,
    display_name text,
    smtp_endpoint text NOT NULL,
    imap_endpoint text,
    smtp_secret_id uuid NOT NULL,
    imap_secret_id uuid,
    daily_cap integer NOT NULL,
    ramp_start integer,
    ramp_step integer DEFAULT 0 NOT NULL,
    active boolean DEFAULT true NOT NULL,
    smtp_error text,
    smtp_error_at timestamp with time zone,
    send_blocked_until timestamp with time zone,
    imap_error text,
    imap_error_at timestamp with time zone,
    last_synced_at timestamp with time zone,
    imap_uidvalidity bigint,
    imap_last_uid bigint DEFAULT 0 NOT NULL,
    sync_lease_expires_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    paused_reason text,
    sync_retry_at timestamp with time zone,
    imap_failures integer DEFAULT 0 NOT NULL,
    dkim_selectors text[],
    CONSTRAINT mailboxes_daily_cap_check CHECK (((daily_cap >= 1) AND (daily_cap <= 10000))),
    CONSTRAINT mailboxes_display_name_check CHECK (((display_name IS NULL) OR (((length(display_name) >= 1) AND (length(display_name) <= 100)) AND (display_name !~ '[<>"[:cntrl:]]'::text)))),
    CONSTRAINT mailboxes_dkim_selectors_check CHECK (((dkim_selectors IS NULL) OR (cardinality(dkim_selectors) = 0) OR ((cardinality(dkim_selectors) <= 10) AND (array_position(dkim_selectors, NULL::text) IS NULL) AND (array_to_string(dkim_selectors, ','::text) ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(,[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)*$'::text)))),
    CONSTRAINT mailboxes_email_check CHECK (((email = lower(email)) AND (length(email) <= 254))),
    CONSTRAINT mailboxes_ramp_start_check CHECK (((ramp_start >= 1) AND (ramp_start <= 10000))),
    CONSTRAINT mailboxes_ramp_step_check CHECK (((ramp_step >= 0) AND (ramp_step <= 10000)))
);

CREATE TABLE public.sender_domain_checks (
    organization_id uuid NOT NULL,
    domain text NOT NULL,
    checked_at timestamp with time zone,
    problem text,
    notes text[] DEFAULT '{}'::text[] NOT NULL,
    spf_record text,
    spf_status text,
    spf_error text,
    spf_lookups integer,
    spf_all text,
    spf_hosts jsonb DEFAULT '{}'::jsonb NOT NULL,
    dmarc_domain text,
    dmarc_record text,
    dmarc_policy text,
    dmarc_subdomain_policy text,
    dmarc_rua text,
    dmarc_adkim text,
    dmarc_aspf text,
    dkim_status text,
    dkim jsonb DEFAULT '{}'::jsonb NOT NULL,
    mx_hosts text[],
    dns_error text,
    dns_error_at timestamp with time zone,
    next_check_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sender_domain_checks_dkim_status_check CHECK ((dkim_status = ANY (ARRAY['found'::text, 'not found'::text, 'not checked'::text]))),
    CONSTRAINT sender_domain_checks_domain_check CHECK (((domain = lower(domain)) AND ((length(domain) >= 1) AND (length(domain) <= 253)))),
    CONSTRAINT sender_domain_checks_spf_status_check CHECK ((spf_status = ANY (ARRAY['valid'::text, 'missing'::text, 'invalid'::text])))
);

CREATE VIEW public.campaign_sender_domain_problems WITH (security_invoker='true') AS
 SELECT c.id AS campaign_id,
    c.organization_id,
    string_agg(DISTINCT ((s.domain || ': '::text) || s.problem), '; '::text) AS sender_domain_problem
   FROM ((public.campaigns c
     JOIN public.mailboxes m ON (((m.organization_id = c.organization_id) AND ((NOT (c.ai_settings ? 'mailboxes'::text)) OR (m.email IN ( SELECT lower(a.value) AS lower
           FROM jsonb_array_elements_text(
                CASE
                    WHEN (jsonb_typeof((c.ai_settings -> 'mailboxes'::text)) = 'array'::text) THEN (c.ai_settings -> 'mailboxes'::text)
                    ELSE '[]'::jsonb
                END) a(value)))))))
     JOIN public.sender_domain_checks s ON (((s.organization_id = c.organization_id) AND (s.domain = split_part(m.email, '@'::text, 2)))))
  WHERE (s.problem IS NOT NULL)
  GROUP BY c.id, c.organization_id;

CREATE TABLE public.campaign_unsubscribes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    campaign_id uuid NOT NULL,
    contact_id uuid NOT NULL,
    unsubscribed_at timestamp with time zone DEFAULT now() NOT NULL,
    reason text,
    organization_id uuid NOT NULL
);

CREATE TABLE public.scrape_results (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    search_task_id uuid NOT NULL,
    website_url text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    extracted_emails text[],
    extracted_phone text[],
    raw_content text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    status_reason text,
    lease_expires_at timestamp with time zone,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    page_title text,
    page_description text,
    site_name text,
    pages_fetched integer DEFAULT 0 NOT NULL,
    organization_id uuid NOT NULL,
    CONSTRAINT scrape_results_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT scrape_results_pages_fetched_check CHECK ((pages_fetched >= 0)),
    CONSTRAINT scrape_results_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'scraping'::text, 'completed'::text, 'failed'::text, 'skipped'::text])))
);

CREATE TABLE public.search_tasks (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    campaign_id uuid NOT NULL,
    search_query text NOT NULL,
    language text,
    status text DEFAULT 'pending'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    status_reason text,
    lease_expires_at timestamp with time zone,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    organization_id uuid NOT NULL,
    CONSTRAINT search_tasks_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT search_tasks_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'in_progress'::text, 'completed'::text, 'failed'::text])))
);

CREATE VIEW public.campaign_stats WITH (security_invoker='true') AS
 SELECT c.id AS campaign_id,
    c.organization_id,
    c.campaign_name,
    c.status,
    COALESCE(st.counts, '{}'::jsonb) AS search_tasks,
    COALESCE(sr.counts, '{}'::jsonb) AS scrape_results,
    COALESCE(cc.counts, '{}'::jsonb) AS campaign_contacts,
    COALESCE(f.counts, '{}'::jsonb) AS outreach_flows,
    COALESCE(u.n, (0)::bigint) AS campaign_unsubscribes,
    COALESCE(cc.unsubscribed, (0)::bigint) AS unsubscribed_everywhere,
    COALESCE(cc.bounced, (0)::bigint) AS bounced_or_complained,
    (COALESCE(cc.prompt_tokens, (0)::numeric))::bigint AS prompt_tokens,
    (COALESCE(cc.completion_tokens, (0)::numeric))::bigint AS completion_tokens,
    COALESCE(im.replied, (0)::bigint) AS replied,
    c.paused_reason,
    COALESCE(im.by_intent, '{}'::jsonb) AS replies_by_intent,
    COALESCE(im.human_replies, (0)::bigint) AS human_replies,
    COALESCE(im.needs_review, (0)::bigint) AS replies_to_review,
    COALESCE(f.first_sent, (0)::bigint) AS first_messages_sent,
        CASE
            WHEN (COALESCE(f.first_sent, (0)::bigint) > 0) THEN round(((COALESCE(im.human_replies, (0)::bigint))::numeric / (f.first_sent)::numeric), 4)
            ELSE NULL::numeric
        END AS reply_rate,
    sdp.sender_domain_problem,
    COALESCE(cc.complained, (0)::bigint) AS complaints,
        CASE
            WHEN (COALESCE(f.first_sent, (0)::bigint) > 0) THEN round(((COALESCE(cc.complained, (0)::bigint))::numeric / (f.first_sent)::numeric), 5)
            ELSE NULL::numeric
        END AS complaint_rate,
    0.001 AS complaint_rate_target,
    0.003 AS complaint_rate_limit
   FROM (((((((public.campaigns c
     LEFT JOIN LATERAL ( SELECT jsonb_object_agg(s.status, s.n) AS counts
           FROM ( SELECT t.status,
                    count(*) AS n
                   FROM public.search_tasks t
                  WHERE (t.campaign_id = c.id)
                  GROUP BY t.status) s) st ON (true))
     LEFT JOIN LATERAL ( SELECT jsonb_object_agg(s.status, s.n) AS counts
           FROM ( SELECT r.status,
                    count(*) AS n
                   FROM (public.search_tasks t
                     JOIN public.scrape_results r ON ((r.search_task_id = t.id)))
                  WHERE (t.campaign_id = c.id)
                  GROUP BY r.status) s) sr ON (true))
     LEFT JOIN ( SELECT s.campaign_id,
            s.organization_id,
            jsonb_object_agg(s.status, s.n) FILTER (WHERE (s.n <> (0)::numeric)) AS counts,
            sum(s.p) AS prompt_tokens,
            sum(s.q) AS completion_tokens,
            (sum(s.unsubscribed))::bigint AS unsubscribed,
            (sum(s.bounced))::bigint AS bounced,
            (sum(s.complained))::bigint AS complained
           FROM ( SELECT counted.campaign_id,
                    counted.organization_id,
                    counted.status,
                    sum(counted.n) AS n,
                    sum(counted.p) AS p,
                    sum(counted.q) AS q,
                    sum(counted.n) FILTER (WHERE counted.contact_unsubscribe_requested) AS unsubscribed,
                    sum(counted.n) FILTER (WHERE (counted.contact_reached_status = ANY (ARRAY['bounced'::text, 'complained'::text]))) AS bounced,
                    sum(counted.n) FILTER (WHERE (counted.contact_reached_status = 'complained'::text)) AS complained
                   FROM ( SELECT r.campaign_id,
                            r.organization_id,
                            r.status,
                            r.contact_unsubscribe_requested,
                            r.contact_reached_status,
                            r.n,
                            r.prompt_tokens AS p,
                            r.completion_tokens AS q
                           FROM private.campaign_contact_rollup r
                        UNION ALL
                         SELECT d.campaign_id,
                            d.organization_id,
                            d.status,
                            d.contact_unsubscribe_requested,
                            d.contact_reached_status,
                            d.n,
                            d.prompt_tokens,
                            d.completion_tokens
                           FROM private.campaign_contact_changes() d(organization_id, campaign_id, status, contact_unsubscribe_requested, contact_reached_status, n, prompt_tokens, completion_tokens)) counted
                  GROUP BY counted.campaign_id, counted.organization_id, counted.status) s
          GROUP BY s.campaign_id, s.organization_id) cc ON (((cc.campaign_id = c.id) AND (cc.organization_id = c.organization_id))))
     LEFT JOIN ( SELECT s.campaign_id,
            s.organization_id,
            jsonb_object_agg(s.status, s.n) AS counts,
            (sum(s.first_sent))::bigint AS first_sent
           FROM ( SELECT campaign_flow_counts.campaign_id,
                    campaign_flow_counts.organization_id,
                    campaign_flow_counts.status,
                    sum(campaign_flow_counts.n) AS n,
                    sum(campaign_flow_counts.n) FILTER (WHERE ((campaign_flow_counts.sequence_order = 0) AND (campaign_flow_counts.status = 'sent'::text))) AS first_sent
                   FROM public.campaign_flow_counts
                  GROUP BY campaign_flow_counts.campaign_id, campaign_flow_counts.organization_id, campaign_flow_counts.status) s
          GROUP BY s.campaign_id, s.organization_id) f ON (((f.campaign_id = c.id) AND (f.organization_id = c.organization_id))))
     LEFT JOIN LATERAL ( SELECT count(*) AS n
           FROM public.campaign_unsubscribes x
          WHERE (x.campaign_id = c.id)) u ON (true))
     LEFT JOIN public.campaign_sender_domain_problems sdp ON (((sdp.campaign_id = c.id) AND (sdp.organization_id = c.organization_id))))
     LEFT JOIN LATERAL ( SELECT count(DISTINCT m.contact_id) FILTER (WHERE (m.kind = ANY (ARRAY['reply'::text, 'stop_request'::text]))) AS replied,
            count(DISTINCT m.contact_id) FILTER (WHERE ((m.kind = ANY (ARRAY['reply'::text, 'stop_request'::text])) AND (m.intent IS DISTINCT FROM 'auto_reply'::text) AND (m.intent IS DISTINCT FROM 'bounce'::text))) AS human_replies,
            count(*) FILTER (WHERE m.needs_review) AS needs_review,
            ( SELECT jsonb_object_agg(i.intent, i.n) AS jsonb_object_agg
                   FROM ( SELECT x.intent,
                            count(DISTINCT x.contact_id) AS n
                           FROM public.inbound_messages x
                          WHERE ((x.campaign_id = c.id) AND (x.kind = ANY (ARRAY['reply'::text, 'stop_request'::text])) AND (x.intent IS NOT NULL))
                          GROUP BY x.intent) i) AS by_intent
           FROM public.inbound_messages m
          WHERE (m.campaign_id = c.id)) im ON (true));

CREATE TABLE public.contacts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    source_scrape_id uuid,
    email text,
    phone text,
    name text,
    language_preference text,
    reached_status text DEFAULT 'pending'::text NOT NULL,
    unsubscribe_requested boolean DEFAULT false NOT NULL,
    unsubscribe_reason text,
    extra_data jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    timezone text,
    contact_form_id uuid,
    form_site text,
    CONSTRAINT contacts_email_shape CHECK ((email ~ '^[^@[:space:]]+@[^@[:space:]]+$'::text)),
    CONSTRAINT contacts_extra_data_object CHECK ((jsonb_typeof(extra_data) = 'object'::text)),
    CONSTRAINT contacts_reachable CHECK (((email IS NOT NULL) OR ((contact_form_id IS NOT NULL) AND (form_site IS NOT NULL)))),
    CONSTRAINT contacts_reached_status_check CHECK ((reached_status = ANY (ARRAY['pending'::text, 'responded'::text, 'unsubscribed'::text, 'bounced'::text, 'complained'::text]))),
    CONSTRAINT contacts_timezone_check CHECK (((timezone IS NULL) OR (length(timezone) <= 64)))
);

CREATE TABLE public.outreach_flows (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    contact_id uuid NOT NULL,
    campaign_id uuid NOT NULL,
    flow_type text DEFAULT 'email'::text NOT NULL,
    status text DEFAULT 'scheduled'::text NOT NULL,
    subject text,
    body text,
    sequence_order integer DEFAULT 0 NOT NULL,
    scheduled_send_time timestamp with time zone,
    sent_at timestamp with time zone,
    message_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    status_reason text,
    lease_expires_at timestamp with time zone,
    organization_id uuid NOT NULL,
    mailbox_id uuid,
    submission jsonb,
    change_xid xid8 DEFAULT pg_current_xact_id(),
    in_reply_to text,
    reply_references text,
    refused_by_policy boolean DEFAULT false NOT NULL,
    CONSTRAINT outreach_flows_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT outreach_flows_flow_type_check CHECK ((flow_type = ANY (ARRAY['email'::text, 'form_submission'::text, 'reply'::text]))),
    CONSTRAINT outreach_flows_in_reply_to_check CHECK ((length(in_reply_to) <= 300)),
    CONSTRAINT outreach_flows_reply_references_check CHECK ((length(reply_references) <= 4000)),
    CONSTRAINT outreach_flows_sequence_order_check CHECK ((sequence_order >= 0)),
    CONSTRAINT outreach_flows_status_check CHECK ((status = ANY (ARRAY['draft'::text, 'scheduled'::text, 'sending'::text, 'sent'::text, 'failed'::text, 'canceled'::text])))
);

COMMENT ON COLUMN public.outreach_flows.refused_by_policy IS 'Failed because the receiving server refused the sender by policy (SMTP enhanced status 5.7.x), not the address.';

CREATE VIEW public.complaint_rates WITH (security_invoker='true') AS
 WITH delivered AS NOT MATERIALIZED (
         SELECT m.organization_id,
            m.id AS mailbox_id,
            m.email,
            split_part(m.email, '@'::text, 2) AS domain,
            d.delivered_7d,
            d.delivered_30d
           FROM (public.mailboxes m
             CROSS JOIN LATERAL ( SELECT count(*) FILTER (WHERE (f.sent_at > (now() - '7 days'::interval))) AS delivered_7d,
                    count(*) AS delivered_30d
                   FROM public.outreach_flows f
                  WHERE ((f.mailbox_id = m.id) AND (f.status = 'sent'::text) AND (f.sent_at > (now() - '30 days'::interval)))) d)
        ), complained AS NOT MATERIALIZED (
         SELECT m.organization_id,
            f.mailbox_id,
            split_part(m.email, '@'::text, 2) AS domain,
            f.contact_id,
            max(f.sent_at) AS last_sent
           FROM ((public.contacts ct
             JOIN public.outreach_flows f ON ((f.contact_id = ct.id)))
             JOIN public.mailboxes m ON ((m.id = f.mailbox_id)))
          WHERE ((ct.reached_status = 'complained'::text) AND (f.status = 'sent'::text) AND (f.sent_at > (now() - '30 days'::interval)))
          GROUP BY m.organization_id, f.mailbox_id, m.email, f.contact_id
        ), counted AS (
         SELECT 'mailbox'::text AS scope,
            d.organization_id,
            d.mailbox_id,
            d.email,
            d.domain,
            d.delivered_7d,
            ( SELECT count(*) AS count
                   FROM complained c
                  WHERE ((c.mailbox_id = d.mailbox_id) AND (c.last_sent > (now() - '7 days'::interval)))) AS complaints_7d,
            d.delivered_30d,
            ( SELECT count(*) AS count
                   FROM complained c
                  WHERE (c.mailbox_id = d.mailbox_id)) AS complaints_30d
           FROM delivered d
        UNION ALL
         SELECT 'domain'::text,
            d.organization_id,
            NULL::uuid AS uuid,
            NULL::text AS text,
            d.domain,
            (sum(d.delivered_7d))::bigint AS sum,
            ( SELECT count(DISTINCT c.contact_id) AS count
                   FROM complained c
                  WHERE ((c.organization_id = d.organization_id) AND (c.domain = d.domain) AND (c.last_sent > (now() - '7 days'::interval)))) AS count,
            (sum(d.delivered_30d))::bigint AS sum,
            ( SELECT count(DISTINCT c.contact_id) AS count
                   FROM complained c
                  WHERE ((c.organization_id = d.organization_id) AND (c.domain = d.domain))) AS count
           FROM delivered d
          GROUP BY d.organization_id, d.domain
        )
 SELECT scope,
    organization_id,
    mailbox_id,
    email,
    domain,
    delivered_7d,
    complaints_7d,
    round(((complaints_7d)::numeric / (NULLIF(delivered_7d, 0))::numeric), 5) AS complaint_rate_7d,
    delivered_30d,
    complaints_30d,
    round(((complaints_30d)::numeric / (NULLIF(delivered_30d, 0))::numeric), 5) AS complaint_rate_30d,
    0.001 AS gmail_target_rate,
    0.003 AS gmail_limit_rate,
        CASE
            WHEN (delivered_7d = 0) THEN 'no mail in 7 days'::text
            WHEN (((complaints_7d)::numeric / (delivered_7d)::numeric) >= 0.003) THEN 'at or above 0.3%'::text
            WHEN (((complaints_7d)::numeric / (delivered_7d)::numeric) >= 0.001) THEN 'at or above 0.1%'::text
            ELSE 'below 0.1%'::text
        END AS standing_7d
   FROM counted;

CREATE TABLE public.contact_forms (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    scrape_result_id uuid NOT NULL,
    site text NOT NULL,
    page_url text NOT NULL,
    action text NOT NULL,
    method text NOT NULL,
    enctype text NOT NULL,
    fields jsonb NOT NULL,
    roles jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT contact_forms_fields_check CHECK ((jsonb_typeof(fields) = 'array'::text)),
    CONSTRAINT contact_forms_method_check CHECK ((method = 'post'::text))
);

CREATE TABLE public.feedback_reports (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    mailbox_id uuid,
    flow_id uuid,
    contact_id uuid,
    feedback_type text NOT NULL,
    reporter text,
    reported_message_id text,
    original_recipient text,
    arrival_date timestamp with time zone,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    fingerprint text NOT NULL
);

CREATE TABLE public.inbound_quarantine (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    mailbox_id uuid NOT NULL,
    uidvalidity bigint NOT NULL,
    uid bigint NOT NULL,
    problem text NOT NULL,
    reason text NOT NULL,
    kind text,
    contact_id uuid,
    from_address text,
    subject text,
    snippet text,
    fingerprint text,
    attempts integer DEFAULT 1 NOT NULL,
    read_again boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT inbound_quarantine_kind_check CHECK ((kind = ANY (ARRAY['reply'::text, 'auto_reply'::text, 'bounce'::text, 'stop_request'::text, 'complaint'::text]))),
    CONSTRAINT inbound_quarantine_problem_check CHECK ((problem = ANY (ARRAY['unreadable'::text, 'unverified'::text]))),
    CONSTRAINT inbound_quarantine_reason_check CHECK ((length(reason) <= 500))
);

CREATE TABLE public.organization_members (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role text DEFAULT 'member'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT organization_members_role_check CHECK ((role = ANY (ARRAY['member'::text, 'admin'::text])))
);

CREATE TABLE public.organizations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    daily_send_cap integer DEFAULT 1000 NOT NULL,
    CONSTRAINT organizations_daily_send_cap_check CHECK (((daily_send_cap >= 0) AND (daily_send_cap <= 1000000)))
);

CREATE TABLE public.public_mail_domains (
    domain text NOT NULL,
    CONSTRAINT public_mail_domains_domain_check CHECK ((domain = lower(domain)))
);

CREATE TABLE public.send_spacing (
    domain text NOT NULL,
    next_allowed_at timestamp with time zone NOT NULL
);

CREATE VIEW public.sender_domain_status WITH (security_invoker='true') AS
 SELECT organization_id,
    domain,
        CASE
            WHEN (checked_at IS NULL) THEN 'not checked yet'::text
            WHEN (problem IS NOT NULL) THEN 'held'::text
            ELSE 'ok'::text
        END AS status,
    problem,
    notes,
    checked_at,
    (checked_at < (now() - '24:00:00'::interval)) AS stale,
    dns_error,
    dns_error_at,
    spf_status,
    spf_record,
    spf_error,
    spf_lookups,
    spf_all,
    spf_hosts,
    dmarc_domain,
    dmarc_record,
    dmarc_policy,
    dmarc_subdomain_policy,
    dmarc_rua,
    dmarc_adkim,
    dmarc_aspf,
    dkim_status,
    dkim,
    mx_hosts,
    ( SELECT COALESCE(array_agg(m.email ORDER BY m.email), '{}'::text[]) AS "coalesce"
           FROM public.mailboxes m
          WHERE ((m.organization_id = s.organization_id) AND (split_part(m.email, '@'::text, 2) = s.domain))) AS mailboxes
   FROM public.sender_domain_checks s;

CREATE TABLE public.sender_domains (
    organization_id uuid NOT NULL,
    domain text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sender_domains_domain_check CHECK (((domain = lower(domain)) AND (domain ~ '^[^@\s]+\.[^@\s.]+$'::text)))
);

CREATE TABLE public.sns_messages (
    message_id text NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.webhook_deliveries (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    last_status integer,
    last_error text,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    delivered_at timestamp with time zone,
    CONSTRAINT webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text])))
);

CREATE TABLE public.webhook_endpoints (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    url text NOT NULL,
    events text[] NOT NULL,
    secret_id uuid NOT NULL,
    active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_endpoints_events_check CHECK (((cardinality(events) >= 1) AND (cardinality(events) <= 20))),
    CONSTRAINT webhook_endpoints_url_check CHECK ((length(url) <= 2000))
);

ALTER TABLE ONLY private.campaign_contact_rollup
    ADD CONSTRAINT campaign_contact_rollup_key UNIQUE (campaign_id, organization_id, status, contact_unsubscribe_requested, contact_reached_status);

ALTER TABLE ONLY private.campaign_contact_tally
    ADD CONSTRAINT campaign_contact_tally_pkey PRIMARY KEY (campaign_id, contact_id);

ALTER TABLE ONLY private.flow_tally
    ADD CONSTRAINT flow_tally_pkey PRIMARY KEY (id);

ALTER TABLE ONLY private.stats_watermarks
    ADD CONSTRAINT stats_watermarks_pkey PRIMARY KEY (source);

ALTER TABLE ONLY public.campaign_contacts
    ADD CONSTRAINT campaign_contacts_pkey PRIMARY KEY (campaign_id, contact_id);

ALTER TABLE ONLY public.campaign_unsubscribes
    ADD CONSTRAINT campaign_unsubscribes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.campaign_unsubscribes
    ADD CONSTRAINT campaign_unsubscribes_unique UNIQUE (campaign_id, contact_id);

ALTER TABLE ONLY public.campaigns
    ADD CONSTRAINT campaigns_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.contact_forms
    ADD CONSTRAINT contact_forms_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.contact_forms
    ADD CONSTRAINT contact_forms_scrape_result_id_page_url_action_key UNIQUE (scrape_result_id, page_url, action);

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.feedback_reports
    ADD CONSTRAINT feedback_reports_mailbox_id_fingerprint_key UNIQUE (mailbox_id, fingerprint);

ALTER TABLE ONLY public.feedback_reports
    ADD CONSTRAINT feedback_reports_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_mailbox_id_fingerprint_key UNIQUE (mailbox_id, fingerprint);

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.inbound_quarantine
    ADD CONSTRAINT inbound_quarantine_mailbox_id_uidvalidity_uid_key UNIQUE (mailbox_id, uidvalidity, uid);

ALTER TABLE ONLY public.inbound_quarantine
    ADD CONSTRAINT inbound_quarantine_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.mailboxes
    ADD CONSTRAINT mailboxes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.organization_members
    ADD CONSTRAINT organization_members_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.organization_members
    ADD CONSTRAINT organization_members_unique UNIQUE (organization_id, user_id);

ALTER TABLE ONLY public.organizations
    ADD CONSTRAINT organizations_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.outreach_flows
    ADD CONSTRAINT outreach_flows_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.outreach_flows
    ADD CONSTRAINT outreach_flows_step_unique UNIQUE (campaign_id, contact_id, sequence_order);

ALTER TABLE ONLY public.public_mail_domains
    ADD CONSTRAINT public_mail_domains_pkey PRIMARY KEY (domain);

ALTER TABLE ONLY public.scrape_results
    ADD CONSTRAINT scrape_results_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.scrape_results
    ADD CONSTRAINT scrape_results_task_url_unique UNIQUE (search_task_id, website_url);

ALTER TABLE ONLY public.search_tasks
    ADD CONSTRAINT search_tasks_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.send_spacing
    ADD CONSTRAINT send_spacing_pkey PRIMARY KEY (domain);

ALTER TABLE ONLY public.sender_domain_checks
    ADD CONSTRAINT sender_domain_checks_pkey PRIMARY KEY (organization_id, domain);

ALTER TABLE ONLY public.sender_domains
    ADD CONSTRAINT sender_domains_pkey PRIMARY KEY (organization_id, domain);

ALTER TABLE ONLY public.sns_messages
    ADD CONSTRAINT sns_messages_pkey PRIMARY KEY (message_id);

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);

CREATE UNIQUE INDEX flow_rollup_key ON private.flow_rollup USING btree (campaign_id, organization_id, sequence_order, mailbox_id, status) NULLS NOT DISTINCT;

CREATE INDEX campaign_contacts_campaign_status_idx ON public.campaign_contacts USING btree (campaign_id, status) INCLUDE (organization_id, prompt_tokens, completion_tokens);

CREATE INDEX campaign_contacts_change_idx ON public.campaign_contacts USING btree (change_xid);

CREATE INDEX campaign_contacts_contact_idx ON public.campaign_contacts USING btree (contact_id);

CREATE INDEX campaign_contacts_open_idx ON public.campaign_contacts USING btree (next_attempt_at) WHERE (status = ANY (ARRAY['pending'::text, 'drafting'::text]));

CREATE INDEX campaign_contacts_organization_idx ON public.campaign_contacts USING btree (organization_id);

CREATE INDEX campaign_unsubscribes_campaign_idx ON public.campaign_unsubscribes USING btree (campaign_id) INCLUDE (organization_id);

CREATE INDEX campaign_unsubscribes_contact_idx ON public.campaign_unsubscribes USING btree (contact_id);

CREATE INDEX campaign_unsubscribes_organization_idx ON public.campaign_unsubscribes USING btree (organization_id);

CREATE INDEX campaigns_created_by_idx ON public.campaigns USING btree (created_by);

CREATE INDEX campaigns_organization_idx ON public.campaigns USING btree (organization_id);

CREATE INDEX contact_forms_organization_site_idx ON public.contact_forms USING btree (organization_id, site);

CREATE INDEX contacts_contact_form_idx ON public.contacts USING btree (contact_form_id);

CREATE INDEX contacts_opted_out_idx ON public.contacts USING btree (organization_id, id) INCLUDE (unsubscribe_requested, reached_status) WHERE (unsubscribe_requested OR (reached_status = ANY (ARRAY['unsubscribed'::text, 'bounced'::text, 'complained'::text])));

CREATE UNIQUE INDEX contacts_org_email_unique ON public.contacts USING btree (organization_id, lower(email));

CREATE INDEX contacts_organization_created_idx ON public.contacts USING btree (organization_id, created_at DESC);

CREATE INDEX contacts_organization_domain_idx ON public.contacts USING btree (organization_id, lower(split_part(email, '@'::text, 2)));

CREATE UNIQUE INDEX contacts_organization_form_site_idx ON public.contacts USING btree (organization_id, form_site) WHERE (email IS NULL);

CREATE INDEX contacts_search_company_idx ON public.contacts USING btree (organization_id, lower(COALESCE(form_site, split_part(email, '@'::text, 2))) text_pattern_ops);

CREATE INDEX contacts_search_email_idx ON public.contacts USING btree (organization_id, lower(email) text_pattern_ops);

CREATE INDEX contacts_search_name_idx ON public.contacts USING btree (organization_id, lower(name) text_pattern_ops);

CREATE INDEX contacts_source_scrape_idx ON public.contacts USING btree (source_scrape_id);

CREATE INDEX feedback_reports_contact_idx ON public.feedback_reports USING btree (contact_id);

CREATE INDEX feedback_reports_flow_idx ON public.feedback_reports USING btree (flow_id);

CREATE INDEX feedback_reports_organization_idx ON public.feedback_reports USING btree (organization_id, received_at DESC);

CREATE INDEX inbound_messages_campaign_idx ON public.inbound_messages USING btree (campaign_id, kind) INCLUDE (contact_id, organization_id);

CREATE INDEX inbound_messages_campaign_intent_idx ON public.inbound_messages USING btree (campaign_id, intent) WHERE (intent IS NOT NULL);

CREATE INDEX inbound_messages_contact_idx ON public.inbound_messages USING btree (contact_id);

CREATE INDEX inbound_messages_flow_idx ON public.inbound_messages USING btree (flow_id);

CREATE INDEX inbound_messages_inbox_idx ON public.inbound_messages USING btree (organization_id, received_at DESC, id DESC) WHERE (kind = ANY (ARRAY['reply'::text, 'stop_request'::text]));

CREATE INDEX inbound_messages_next_flow_idx ON public.inbound_messages USING btree (next_flow_id) WHERE (next_flow_id IS NOT NULL);

CREATE INDEX inbound_messages_organization_idx ON public.inbound_messages USING btree (organization_id, received_at DESC);

CREATE INDEX inbound_messages_referred_contact_idx ON public.inbound_messages USING btree (referred_contact_id) WHERE (referred_contact_id IS NOT NULL);

CREATE INDEX inbound_quarantine_contact_idx ON public.inbound_quarantine USING btree (contact_id);

CREATE INDEX inbound_quarantine_organization_idx ON public.inbound_quarantine USING btree (organization_id, created_at DESC);

CREATE INDEX inbound_quarantine_read_again_idx ON public.inbound_quarantine USING btree (mailbox_id, uidvalidity) WHERE read_again;

CREATE UNIQUE INDEX mailboxes_organization_email_idx ON public.mailboxes USING btree (organization_id, email);

CREATE INDEX mailboxes_sync_idx ON public.mailboxes USING btree (sync_retry_at) WHERE (active AND (imap_secret_id IS NOT NULL));

CREATE INDEX organization_members_user_idx ON public.organization_members USING btree (user_id);

CREATE INDEX outreach_flows_campaign_mailbox_idx ON public.outreach_flows USING btree (campaign_id, mailbox_id, status) INCLUDE (organization_id);

CREATE INDEX outreach_flows_campaign_status_idx ON public.outreach_flows USING btree (campaign_id, status) INCLUDE (organization_id);

CREATE INDEX outreach_flows_campaign_step_idx ON public.outreach_flows USING btree (campaign_id, sequence_order, status) INCLUDE (organization_id);

CREATE INDEX outreach_flows_change_idx ON public.outreach_flows USING btree (change_xid);

CREATE INDEX outreach_flows_contact_idx ON public.outreach_flows USING btree (contact_id);

CREATE INDEX outreach_flows_drafts_idx ON public.outreach_flows USING btree (organization_id, created_at, id) WHERE (status = 'draft'::text);

CREATE INDEX outreach_flows_due_idx ON public.outreach_flows USING btree (scheduled_send_time) WHERE (status = 'scheduled'::text);

CREATE INDEX outreach_flows_form_contact_idx ON public.outreach_flows USING btree (contact_id, sent_at) WHERE (flow_type = 'form_submission'::text);

CREATE INDEX outreach_flows_mailbox_sent_idx ON public.outreach_flows USING btree (mailbox_id, sent_at) INCLUDE (status, organization_id) WHERE ((mailbox_id IS NOT NULL) AND (status = ANY (ARRAY['sent'::text, 'sending'::text])));

CREATE INDEX outreach_flows_message_id_idx ON public.outreach_flows USING btree (message_id) WHERE (message_id IS NOT NULL);

CREATE INDEX outreach_flows_organization_idx ON public.outreach_flows USING btree (organization_id);

CREATE INDEX outreach_flows_sending_idx ON public.outreach_flows USING btree (id) WHERE (status = 'sending'::text);

CREATE INDEX outreach_flows_sent_idx ON public.outreach_flows USING btree (campaign_id, sent_at) WHERE (status = 'sent'::text);

CREATE INDEX outreach_flows_thread_idx ON public.outreach_flows USING btree (contact_id, campaign_id, sequence_order);

CREATE INDEX scrape_results_open_idx ON public.scrape_results USING btree (next_attempt_at) WHERE (status = ANY (ARRAY['pending'::text, 'scraping'::text]));

CREATE INDEX scrape_results_organization_idx ON public.scrape_results USING btree (organization_id);

CREATE INDEX scrape_results_task_status_idx ON public.scrape_results USING btree (search_task_id, status);

CREATE INDEX search_tasks_campaign_idx ON public.search_tasks USING btree (campaign_id);

CREATE INDEX search_tasks_open_idx ON public.search_tasks USING btree (next_attempt_at) WHERE (status = ANY (ARRAY['pending'::text, 'in_progress'::text]));

CREATE INDEX search_tasks_organization_idx ON public.search_tasks USING btree (organization_id);

CREATE INDEX sender_domain_checks_due_idx ON public.sender_domain_checks USING btree (next_check_at);

CREATE INDEX sns_messages_received_at_idx ON public.sns_messages USING btree (received_at);

CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries USING btree (endpoint_id, next_attempt_at) WHERE (status = 'pending'::text);

CREATE INDEX webhook_deliveries_organization_idx ON public.webhook_deliveries USING btree (organization_id, created_at DESC);

CREATE INDEX webhook_endpoints_organization_idx ON public.webhook_endpoints USING btree (organization_id) WHERE active;

CREATE TRIGGER campaign_contacts_forget_tallied AFTER DELETE OR UPDATE OF campaign_id, contact_id, organization_id ON public.campaign_contacts FOR EACH ROW EXECUTE FUNCTION private.forget_tallied_campaign_contact();

CREATE TRIGGER campaign_contacts_same_organization BEFORE INSERT OR UPDATE OF campaign_id, contact_id, organization_id ON public.campaign_contacts FOR EACH ROW EXECUTE FUNCTION public.ensure_same_organization();

CREATE TRIGGER campaign_contacts_stamp_change BEFORE INSERT OR UPDATE ON public.campaign_contacts FOR EACH ROW EXECUTE FUNCTION private.stamp_change();

CREATE TRIGGER campaign_contacts_take_contact_state BEFORE INSERT OR UPDATE OF contact_id, contact_unsubscribe_requested, contact_reached_status ON public.campaign_contacts FOR EACH ROW EXECUTE FUNCTION private.copy_contact_state();

CREATE TRIGGER campaign_contacts_webhook AFTER INSERT ON public.campaign_contacts FOR EACH ROW EXECUTE FUNCTION public.dispatch_webhook('draft_message');

CREATE TRIGGER campaign_unsubscribes_event AFTER INSERT ON public.campaign_unsubscribes FOR EACH ROW EXECUTE FUNCTION private.event_campaign_unsubscribe();

CREATE TRIGGER campaign_unsubscribes_same_organization BEFORE INSERT OR UPDATE OF campaign_id, contact_id, organization_id ON public.campaign_unsubscribes FOR EACH ROW EXECUTE FUNCTION public.ensure_same_organization();

CREATE TRIGGER campaign_unsubscribes_stop_the_company AFTER INSERT ON public.campaign_unsubscribes FOR EACH ROW EXECUTE FUNCTION private.stop_the_company_in_campaign();

CREATE TRIGGER campaign_unsubscribes_trip_negative_reply_breaker AFTER INSERT ON public.campaign_unsubscribes FOR EACH ROW EXECUTE FUNCTION private.trip_negative_reply_breaker();

CREATE TRIGGER campaigns_cancel_when_completed AFTER UPDATE OF status ON public.campaigns FOR EACH ROW WHEN (((new.status = 'completed'::text) AND (old.status IS DISTINCT FROM 'completed'::text))) EXECUTE FUNCTION private.cancel_completed_campaign();

CREATE TRIGGER campaigns_check_settings BEFORE INSERT OR UPDATE OF ai_settings, organization_id ON public.campaigns FOR EACH ROW EXECUTE FUNCTION private.check_campaign_settings();

CREATE TRIGGER campaigns_clear_paused_reason BEFORE UPDATE OF status ON public.campaigns FOR EACH ROW WHEN ((new.status = 'active'::text)) EXECUTE FUNCTION private.clear_paused_reason();

CREATE TRIGGER campaigns_event AFTER UPDATE OF status ON public.campaigns FOR EACH ROW WHEN (((new.status = 'paused'::text) AND (old.status IS DISTINCT FROM 'paused'::text))) EXECUTE FUNCTION private.event_campaign_paused();

CREATE TRIGGER campaigns_track_sender_domain AFTER INSERT OR UPDATE OF ai_settings, status ON public.campaigns FOR EACH ROW EXECUTE FUNCTION private.track_sender_domain();

CREATE TRIGGER campaigns_updated_at BEFORE UPDATE ON public.campaigns FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TRIGGER contacts_event AFTER UPDATE OF reached_status, unsubscribe_requested ON public.contacts FOR EACH ROW WHEN (((new.reached_status IS DISTINCT FROM old.reached_status) OR (new.unsubscribe_requested IS DISTINCT FROM old.unsubscribe_requested))) EXECUTE FUNCTION private.event_contact_changed();

CREATE TRIGGER contacts_keep_opt_outs BEFORE UPDATE OF unsubscribe_requested, reached_status ON public.contacts FOR EACH ROW EXECUTE FUNCTION private.keep_opt_outs();

CREATE TRIGGER contacts_share_state AFTER UPDATE OF reached_status, unsubscribe_requested ON public.contacts FOR EACH ROW WHEN (((new.reached_status IS DISTINCT FROM old.reached_status) OR (new.unsubscribe_requested IS DISTINCT FROM old.unsubscribe_requested))) EXECUTE FUNCTION private.share_contact_state();

CREATE TRIGGER contacts_source_same_organization BEFORE INSERT OR UPDATE OF source_scrape_id, organization_id ON public.contacts FOR EACH ROW EXECUTE FUNCTION private.contact_source_same_organization();

CREATE TRIGGER contacts_stop_the_company AFTER UPDATE OF reached_status, unsubscribe_requested ON public.contacts FOR EACH ROW WHEN (((new.reached_status <> 'pending'::text) AND ((old.reached_status IS DISTINCT FROM new.reached_status) OR (old.unsubscribe_requested IS DISTINCT FROM new.unsubscribe_requested)))) EXECUTE FUNCTION private.stop_the_company();

CREATE TRIGGER contacts_system_states_only BEFORE UPDATE OF reached_status ON public.contacts FOR EACH ROW EXECUTE FUNCTION private.system_states_only();

CREATE TRIGGER contacts_trip_breakers AFTER UPDATE OF reached_status ON public.contacts FOR EACH ROW WHEN (((new.reached_status = ANY (ARRAY['bounced'::text, 'complained'::text])) AND (old.reached_status IS DISTINCT FROM new.reached_status))) EXECUTE FUNCTION private.trip_breakers();

CREATE TRIGGER contacts_updated_at BEFORE UPDATE ON public.contacts FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE CONSTRAINT TRIGGER inbound_messages_event AFTER INSERT ON public.inbound_messages DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((new.kind = 'reply'::text)) EXECUTE FUNCTION private.event_reply_received();

CREATE TRIGGER inbound_messages_trip_negative_reply_breaker AFTER INSERT OR UPDATE OF intent ON public.inbound_messages FOR EACH ROW WHEN (((new.campaign_id IS NOT NULL) AND ((new.intent = ANY (ARRAY['not_interested'::text, 'unsubscribe'::text])) OR (new.kind = 'stop_request'::text)))) EXECUTE FUNCTION private.trip_negative_reply_breaker();

CREATE TRIGGER mailboxes_clear_paused_reason BEFORE UPDATE OF active ON public.mailboxes FOR EACH ROW WHEN (new.active) EXECUTE FUNCTION private.clear_paused_reason();

CREATE TRIGGER mailboxes_event AFTER UPDATE OF smtp_error, imap_error, active ON public.mailboxes FOR EACH ROW WHEN ((((new.smtp_error IS NOT NULL) AND (old.smtp_error IS NULL)) OR ((new.imap_error IS NOT NULL) AND (old.imap_error IS NULL)) OR (old.active AND (NOT new.active) AND (new.paused_reason IS NOT NULL)))) EXECUTE FUNCTION private.event_mailbox_failing();

CREATE TRIGGER mailboxes_remove BEFORE DELETE ON public.mailboxes FOR EACH ROW EXECUTE FUNCTION private.remove_mailbox();

CREATE TRIGGER mailboxes_track_sender_domain AFTER INSERT OR UPDATE OF email ON public.mailboxes FOR EACH ROW EXECUTE FUNCTION private.track_sender_domain();

CREATE TRIGGER organizations_limit_daily_send_cap BEFORE UPDATE OF daily_send_cap ON public.organizations FOR EACH ROW EXECUTE FUNCTION private.limit_daily_send_cap();

CREATE TRIGGER organizations_updated_at BEFORE UPDATE ON public.organizations FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TRIGGER outreach_flows_draft_event AFTER INSERT ON public.outreach_flows FOR EACH ROW WHEN (((new.status = 'draft'::text) AND (new.sequence_order = 0))) EXECUTE FUNCTION private.event_draft();

CREATE TRIGGER outreach_flows_draft_event_update AFTER UPDATE OF status ON public.outreach_flows FOR EACH ROW WHEN (((new.status = 'draft'::text) AND (old.status IS DISTINCT FROM 'draft'::text) AND (new.sequence_order = 0))) EXECUTE FUNCTION private.event_draft();

CREATE TRIGGER outreach_flows_forget_tallied AFTER DELETE OR UPDATE OF id, campaign_id, organization_id ON public.outreach_flows FOR EACH ROW EXECUTE FUNCTION private.forget_tallied_flow();

CREATE TRIGGER outreach_flows_same_organization BEFORE INSERT OR UPDATE OF campaign_id, contact_id, organization_id ON public.outreach_flows FOR EACH ROW EXECUTE FUNCTION public.ensure_same_organization();

CREATE TRIGGER outreach_flows_stamp_change BEFORE INSERT OR UPDATE ON public.outreach_flows FOR EACH ROW EXECUTE FUNCTION private.stamp_change();

CREATE TRIGGER outreach_flows_trip_refusal_breaker AFTER UPDATE OF refused_by_policy ON public.outreach_flows FOR EACH ROW WHEN ((new.refused_by_policy AND (NOT old.refused_by_policy) AND (new.mailbox_id IS NOT NULL))) EXECUTE FUNCTION private.trip_refusal_breaker();

CREATE TRIGGER scrape_results_organization BEFORE INSERT OR UPDATE OF search_task_id, organization_id ON public.scrape_results FOR EACH ROW EXECUTE FUNCTION private.scrape_result_organization();

CREATE TRIGGER scrape_results_updated_at BEFORE UPDATE ON public.scrape_results FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TRIGGER scrape_results_webhook AFTER INSERT ON public.scrape_results FOR EACH ROW EXECUTE FUNCTION public.dispatch_webhook('scrape_url');

CREATE TRIGGER search_tasks_organization BEFORE INSERT OR UPDATE OF campaign_id, organization_id ON public.search_tasks FOR EACH ROW EXECUTE FUNCTION private.search_task_organization();

CREATE TRIGGER search_tasks_updated_at BEFORE UPDATE ON public.search_tasks FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TRIGGER search_tasks_webhook AFTER INSERT ON public.search_tasks FOR EACH ROW EXECUTE FUNCTION public.dispatch_webhook('run_search');

CREATE TRIGGER webhook_deliveries_webhook AFTER INSERT ON public.webhook_deliveries REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION private.dispatch_deliver_events();

CREATE TRIGGER webhook_endpoints_remove BEFORE DELETE ON public.webhook_endpoints FOR EACH ROW EXECUTE FUNCTION private.remove_webhook();

ALTER TABLE ONLY public.campaign_contacts
    ADD CONSTRAINT campaign_contacts_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

ALTER TABLE ONLY public.campaign_unsubscribes
    ADD CONSTRAINT campaign_unsubscribes_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

ALTER TABLE ONLY public.contact_forms
    ADD CONSTRAINT contact_forms_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.contact_forms
    ADD CONSTRAINT contact_forms_scrape_result_id_fkey FOREIGN KEY (scrape_result_id) REFERENCES public.scrape_results(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_contact_form_id_fkey FOREIGN KEY (contact_form_id) REFERENCES public.contact_forms(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.feedback_reports
    ADD CONSTRAINT feedback_reports_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES public.contacts(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.feedback_reports
    ADD CONSTRAINT feedback_reports_flow_id_fkey FOREIGN KEY (flow_id) REFERENCES public.outreach_flows(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.feedback_reports
    ADD CONSTRAINT feedback_reports_mailbox_id_fkey FOREIGN KEY (mailbox_id) REFERENCES public.mailboxes(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.feedback_reports
    ADD CONSTRAINT feedback_reports_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.campaign_contacts
    ADD CONSTRAINT fk_campaign_contacts_campaign FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id);

ALTER TABLE ONLY public.campaign_contacts
    ADD CONSTRAINT fk_campaign_contacts_contact FOREIGN KEY (contact_id) REFERENCES public.contacts(id);

ALTER TABLE ONLY public.campaign_unsubscribes
    ADD CONSTRAINT fk_campaign_unsubscribes_campaign FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id);

ALTER TABLE ONLY public.campaign_unsubscribes
    ADD CONSTRAINT fk_campaign_unsubscribes_contact FOREIGN KEY (contact_id) REFERENCES public.contacts(id);

ALTER TABLE ONLY public.campaigns
    ADD CONSTRAINT fk_campaigns_created_by FOREIGN KEY (created_by) REFERENCES auth.users(id);

ALTER TABLE ONLY public.campaigns
    ADD CONSTRAINT fk_campaigns_org FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT fk_contacts_org FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT fk_contacts_scrape FOREIGN KEY (source_scrape_id) REFERENCES public.scrape_results(id);

ALTER TABLE ONLY public.organization_members
    ADD CONSTRAINT fk_org_members_org FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

ALTER TABLE ONLY public.organization_members
    ADD CONSTRAINT fk_org_members_user FOREIGN KEY (user_id) REFERENCES auth.users(id);

ALTER TABLE ONLY public.outreach_flows
    ADD CONSTRAINT fk_outreach_flows_campaign FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id);

ALTER TABLE ONLY public.outreach_flows
    ADD CONSTRAINT fk_outreach_flows_contact FOREIGN KEY (contact_id) REFERENCES public.contacts(id);

ALTER TABLE ONLY public.scrape_results
    ADD CONSTRAINT fk_scrape_results_task FOREIGN KEY (search_task_id) REFERENCES public.search_tasks(id);

ALTER TABLE ONLY public.search_tasks
    ADD CONSTRAINT fk_search_tasks_campaign FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id);

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES public.contacts(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_flow_id_fkey FOREIGN KEY (flow_id) REFERENCES public.outreach_flows(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_mailbox_id_fkey FOREIGN KEY (mailbox_id) REFERENCES public.mailboxes(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_next_flow_id_fkey FOREIGN KEY (next_flow_id) REFERENCES public.outreach_flows(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_referred_contact_id_fkey FOREIGN KEY (referred_contact_id) REFERENCES public.contacts(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.inbound_quarantine
    ADD CONSTRAINT inbound_quarantine_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES public.contacts(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.inbound_quarantine
    ADD CONSTRAINT inbound_quarantine_mailbox_id_fkey FOREIGN KEY (mailbox_id) REFERENCES public.mailboxes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.inbound_quarantine
    ADD CONSTRAINT inbound_quarantine_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.mailboxes
    ADD CONSTRAINT mailboxes_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.outreach_flows
    ADD CONSTRAINT outreach_flows_mailbox_id_fkey FOREIGN KEY (mailbox_id) REFERENCES public.mailboxes(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.outreach_flows
    ADD CONSTRAINT outreach_flows_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

ALTER TABLE ONLY public.scrape_results
    ADD CONSTRAINT scrape_results_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

ALTER TABLE ONLY public.search_tasks
    ADD CONSTRAINT search_tasks_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

ALTER TABLE ONLY public.sender_domain_checks
    ADD CONSTRAINT sender_domain_checks_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.sender_domains
    ADD CONSTRAINT sender_domains_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organizations(id) ON DELETE CASCADE;

ALTER TABLE private.campaign_contact_rollup ENABLE ROW LEVEL SECURITY;

ALTER TABLE private.campaign_contact_tally ENABLE ROW LEVEL SECURITY;

ALTER TABLE private.flow_rollup ENABLE ROW LEVEL SECURITY;

ALTER TABLE private.flow_tally ENABLE ROW LEVEL SECURITY;

CREATE POLICY "members read how far the counts have been rolled up" ON private.stats_watermarks FOR SELECT TO authenticated USING (true);

CREATE POLICY "members read their organization's campaign contact counts" ON private.campaign_contact_rollup FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's message counts" ON private.flow_rollup FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's tallied campaign contacts" ON private.campaign_contact_tally FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's tallied messages" ON private.flow_tally FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

ALTER TABLE private.stats_watermarks ENABLE ROW LEVEL SECURITY;

CREATE POLICY "admins add members to their organizations" ON public.organization_members FOR INSERT TO authenticated WITH CHECK ((organization_id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[])));

CREATE POLICY "admins change the roles of their organization's members" ON public.organization_members FOR UPDATE TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[]))) WITH CHECK ((organization_id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[])));

CREATE POLICY "admins change their organization's campaigns" ON public.campaigns FOR UPDATE TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[]))) WITH CHECK ((organization_id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[])));

CREATE POLICY "admins change their organization's mailboxes" ON public.mailboxes FOR UPDATE TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[]))) WITH CHECK ((organization_id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[])));

CREATE POLICY "admins remove members from their organizations" ON public.organization_members FOR DELETE TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[])));

CREATE POLICY "admins remove their organization's mailboxes" ON public.mailboxes FOR DELETE TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[])));

CREATE POLICY "admins update their organizations" ON public.organizations FOR UPDATE TO authenticated USING ((id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[]))) WITH CHECK ((id = ANY (( SELECT private.my_organizations('admin'::text) AS my_organizations)::uuid[])));

ALTER TABLE public.campaign_contacts ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.campaign_unsubscribes ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.campaigns ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.contact_forms ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.contacts ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.feedback_reports ENABLE ROW LEVEL SECURITY;

CREATE POLICY feedback_reports_select ON public.feedback_reports FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.user_organizations() AS user_organizations)::uuid[])));

ALTER TABLE public.inbound_messages ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.inbound_quarantine ENABLE ROW LEVEL SECURITY;

CREATE POLICY inbound_quarantine_select ON public.inbound_quarantine FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.user_organizations() AS user_organizations)::uuid[])));

CREATE POLICY inbound_quarantine_update ON public.inbound_quarantine FOR UPDATE TO authenticated USING ((organization_id = ANY (( SELECT private.user_organizations() AS user_organizations)::uuid[]))) WITH CHECK ((organization_id = ANY (( SELECT private.user_organizations() AS user_organizations)::uuid[])));

ALTER TABLE public.mailboxes ENABLE ROW LEVEL SECURITY;

CREATE POLICY "members add contacts to their organizations" ON public.contacts FOR INSERT TO authenticated WITH CHECK ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members edit their organization's contacts" ON public.contacts FOR UPDATE TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[]))) WITH CHECK ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members enroll contacts in their organization's campaigns" ON public.campaign_contacts FOR INSERT TO authenticated WITH CHECK ((( SELECT c.organization_id
   FROM public.campaigns c
  WHERE (c.id = campaign_contacts.campaign_id)) = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's campaign contacts" ON public.campaign_contacts FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's campaign unsubscribes" ON public.campaign_unsubscribes FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's campaigns" ON public.campaigns FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's contact forms" ON public.contact_forms FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's contacts" ON public.contacts FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's mailboxes" ON public.mailboxes FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's members" ON public.organization_members FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's messages" ON public.outreach_flows FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's scrape results" ON public.scrape_results FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's search tasks" ON public.search_tasks FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organization's sender domains" ON public.sender_domains FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read their organizations" ON public.organizations FOR SELECT TO authenticated USING ((id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read what came back to their organization" ON public.inbound_messages FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members read which mail domains are public" ON public.public_mail_domains FOR SELECT TO authenticated USING (true);

CREATE POLICY "members record unsubscribes in their organization's campaigns" ON public.campaign_unsubscribes FOR INSERT TO authenticated WITH CHECK ((( SELECT c.organization_id
   FROM public.campaigns c
  WHERE (c.id = campaign_unsubscribes.campaign_id)) = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])));

CREATE POLICY "members review their organization's waiting messages" ON public.outreach_flows FOR UPDATE TO authenticated USING (((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])) AND (status = ANY (ARRAY['draft'::text, 'scheduled'::text])))) WITH CHECK (((organization_id = ANY (( SELECT private.my_organizations() AS my_organizations)::uuid[])) AND (status = ANY (ARRAY['draft'::text, 'scheduled'::text, 'canceled'::text]))));

ALTER TABLE public.organization_members ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.organizations ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.outreach_flows ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.public_mail_domains ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.scrape_results ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.search_tasks ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.send_spacing ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.sender_domain_checks ENABLE ROW LEVEL SECURITY;

CREATE POLICY sender_domain_checks_select ON public.sender_domain_checks FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.user_organizations() AS user_organizations)::uuid[])));

ALTER TABLE public.sender_domains ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.sns_messages ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.webhook_deliveries ENABLE ROW LEVEL SECURITY;

CREATE POLICY webhook_deliveries_select ON public.webhook_deliveries FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.user_organizations() AS user_organizations)::uuid[])));

ALTER TABLE public.webhook_endpoints ENABLE ROW LEVEL SECURITY;

CREATE POLICY webhook_endpoints_delete ON public.webhook_endpoints FOR DELETE TO authenticated USING ((organization_id = ANY (( SELECT private.user_admin_organizations() AS user_admin_organizations)::uuid[])));

CREATE POLICY webhook_endpoints_select ON public.webhook_endpoints FOR SELECT TO authenticated USING ((organization_id = ANY (( SELECT private.user_organizations() AS user_organizations)::uuid[])));

CREATE POLICY webhook_endpoints_update ON public.webhook_endpoints FOR UPDATE TO authenticated USING ((organization_id = ANY (( SELECT private.user_admin_organizations() AS user_admin_organizations)::uuid[]))) WITH CHECK ((organization_id = ANY (( SELECT private.user_admin_organizations() AS user_admin_organizations)::uuid[])));

GRANT USAGE ON SCHEMA private TO authenticated;
GRANT USAGE ON SCHEMA private TO service_role;

GRANT USAGE ON SCHEMA public TO anon;
GRANT USAGE ON SCHEMA public TO authenticated;
GRANT USAGE ON SCHEMA public TO service_role;

REVOKE ALL ON FUNCTION private.breaker_reason(attempts bigint, bounced bigint, complained bigint, limits jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.campaign_contact_changes() FROM PUBLIC;
GRANT ALL ON FUNCTION private.campaign_contact_changes() TO authenticated;
GRANT ALL ON FUNCTION private.campaign_contact_changes() TO service_role;

REVOKE ALL ON FUNCTION private.campaign_daily_cap(settings jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.campaign_settings_problem(settings jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.campaign_settings_problem_before_guardrails(settings jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.campaign_settings_problem_before_mailboxes(settings jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.campaign_settings_problem_before_reply_breaker(settings jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.campaign_summary(campaign_id uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.cancel_completed_campaign() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.check_campaign_settings() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.clear_paused_reason() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.contact_source_same_organization() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.contact_summary(contact_id uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.copy_contact_state() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.dispatch_deliver_events() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.enqueue_event(org uuid, event_type text, data jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.event_campaign_paused() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.event_campaign_unsubscribe() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.event_contact_changed() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.event_draft() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.event_mailbox_failing() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.event_reply_received() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.flow_changes() FROM PUBLIC;
GRANT ALL ON FUNCTION private.flow_changes() TO authenticated;
GRANT ALL ON FUNCTION private.flow_changes() TO service_role;

REVOKE ALL ON FUNCTION private.forget_tallied_campaign_contact() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.forget_tallied_flow() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.has_webhooks(org uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.keep_opt_outs() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.limit_daily_send_cap() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.mailbox_cap(daily_cap integer, ramp_start integer, ramp_step integer, added timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.mailbox_url_problem(url text, kind text) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.my_organizations(role text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.my_organizations(role text) TO authenticated;

REVOKE ALL ON FUNCTION private.negative_reply_reason(campaign uuid, limits jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.plain_name(value jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.recent_attempts(campaign uuid, mailbox uuid, OUT attempts bigint, OUT bounced bigint, OUT complained bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.refresh_campaign_stats() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.remove_mailbox() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.remove_webhook() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.scrape_result_organization() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.search_task_organization() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.share_contact_state() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.stamp_change() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.stop_the_company() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.stop_the_company_in_campaign() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.system_states_only() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.track_sender_domain() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.trip_breakers() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.trip_negative_reply_breaker() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.trip_refusal_breaker() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.unknown_key(value jsonb, known text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION private.unknown_key(value jsonb, known text[]) TO authenticated;

REVOKE ALL ON FUNCTION private.user_admin_organizations() FROM PUBLIC;
GRANT ALL ON FUNCTION private.user_admin_organizations() TO authenticated;

REVOKE ALL ON FUNCTION private.user_organizations() FROM PUBLIC;
GRANT ALL ON FUNCTION private.user_organizations() TO authenticated;

REVOKE ALL ON FUNCTION private.webhook_event_types() FROM PUBLIC;

REVOKE ALL ON FUNCTION private.webhook_url_problem(url text) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.whole_number(value jsonb, low integer, high integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION private.without_password(url text) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.add_contacts(organization_id uuid, contacts jsonb, campaign_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.add_contacts(organization_id uuid, contacts jsonb, campaign_id uuid) TO authenticated;
GRANT ALL ON FUNCTION public.add_contacts(organization_id uuid, contacts jsonb, campaign_id uuid) TO service_role;

REVOKE ALL ON FUNCTION public.add_mailbox(organization_id uuid, email text, smtp_url text, imap_url text, daily_cap integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.add_mailbox(organization_id uuid, email text, smtp_url text, imap_url text, daily_cap integer) TO authenticated;
GRANT ALL ON FUNCTION public.add_mailbox(organization_id uuid, email text, smtp_url text, imap_url text, daily_cap integer) TO service_role;

REVOKE ALL ON FUNCTION public.add_webhook(organization_id uuid, url text, events text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION public.add_webhook(organization_id uuid, url text, events text[]) TO authenticated;
GRANT ALL ON FUNCTION public.add_webhook(organization_id uuid, url text, events text[]) TO service_role;

REVOKE ALL ON FUNCTION public.contact_data(organization_id uuid, email text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.contact_data(organization_id uuid, email text) TO authenticated;
GRANT ALL ON FUNCTION public.contact_data(organization_id uuid, email text) TO service_role;

REVOKE ALL ON FUNCTION public.contact_data_by_id(contact_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.contact_data_by_id(contact_id uuid) TO authenticated;
GRANT ALL ON FUNCTION public.contact_data_by_id(contact_id uuid) TO service_role;

REVOKE ALL ON FUNCTION public.dispatch_webhook() FROM PUBLIC;

REVOKE ALL ON FUNCTION public.ensure_same_organization() FROM PUBLIC;

REVOKE ALL ON FUNCTION public.search_contacts(organization_id uuid, prefix text, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.search_contacts(organization_id uuid, prefix text, max_rows integer) TO authenticated;
GRANT ALL ON FUNCTION public.search_contacts(organization_id uuid, prefix text, max_rows integer) TO service_role;

REVOKE ALL ON FUNCTION public.set_updated_at() FROM PUBLIC;

REVOKE ALL ON FUNCTION public.suppression_reason(contact uuid, campaign uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.suppression_reason(contact uuid, campaign uuid, flow_type text) FROM PUBLIC;

GRANT SELECT ON TABLE private.campaign_contact_rollup TO authenticated;
GRANT SELECT ON TABLE private.campaign_contact_rollup TO service_role;

GRANT SELECT ON TABLE private.campaign_contact_tally TO authenticated;
GRANT SELECT ON TABLE private.campaign_contact_tally TO service_role;

GRANT SELECT ON TABLE private.flow_rollup TO authenticated;
GRANT SELECT ON TABLE private.flow_rollup TO service_role;

GRANT SELECT ON TABLE private.flow_tally TO authenticated;
GRANT SELECT ON TABLE private.flow_tally TO service_role;

GRANT SELECT ON TABLE private.stats_watermarks TO authenticated;
GRANT SELECT ON TABLE private.stats_watermarks TO service_role;

GRANT ALL ON TABLE public.campaign_contacts TO service_role;
GRANT SELECT ON TABLE public.campaign_contacts TO authenticated;

GRANT INSERT(campaign_id) ON TABLE public.campaign_contacts TO authenticated;

GRANT INSERT(contact_id) ON TABLE public.campaign_contacts TO authenticated;

GRANT SELECT ON TABLE public.campaign_flow_counts TO authenticated;
GRANT ALL ON TABLE public.campaign_flow_counts TO service_role;

GRANT ALL ON TABLE public.campaigns TO service_role;
GRANT SELECT ON TABLE public.campaigns TO authenticated;

GRANT UPDATE(campaign_name) ON TABLE public.campaigns TO authenticated;

GRANT UPDATE(instructions) ON TABLE public.campaigns TO authenticated;

GRANT UPDATE(tone) ON TABLE public.campaigns TO authenticated;

GRANT UPDATE(word_limit) ON TABLE public.campaigns TO authenticated;

GRANT UPDATE(ai_settings) ON TABLE public.campaigns TO authenticated;

GRANT UPDATE(default_language) ON TABLE public.campaigns TO authenticated;

GRANT UPDATE(status) ON TABLE public.campaigns TO authenticated;

GRANT SELECT ON TABLE public.inbound_messages TO authenticated;
GRANT ALL ON TABLE public.inbound_messages TO service_role;

GRANT SELECT ON TABLE public.campaign_reply_stats TO authenticated;
GRANT ALL ON TABLE public.campaign_reply_stats TO service_role;

GRANT DELETE ON TABLE public.mailboxes TO authenticated;
GRANT ALL ON TABLE public.mailboxes TO service_role;

GRANT SELECT(id) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(organization_id) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(email) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(display_name),UPDATE(display_name) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(smtp_endpoint) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(imap_endpoint) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(daily_cap),UPDATE(daily_cap) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(ramp_start),UPDATE(ramp_start) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(ramp_step),UPDATE(ramp_step) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(active),UPDATE(active) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(smtp_error) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(smtp_error_at) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(send_blocked_until) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(imap_error) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(imap_error_at) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(last_synced_at) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(created_at) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(updated_at) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(paused_reason) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(sync_retry_at) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT(dkim_selectors),UPDATE(dkim_selectors) ON TABLE public.mailboxes TO authenticated;

GRANT SELECT ON TABLE public.sender_domain_checks TO authenticated;
GRANT ALL ON TABLE public.sender_domain_checks TO service_role;

GRANT SELECT ON TABLE public.campaign_sender_domain_problems TO authenticated;
GRANT ALL ON TABLE public.campaign_sender_domain_problems TO service_role;

GRANT ALL ON TABLE public.campaign_unsubscribes TO service_role;
GRANT SELECT ON TABLE public.campaign_unsubscribes TO authenticated;

GRANT INSERT(campaign_id) ON TABLE public.campaign_unsubscribes TO authenticated;

GRANT INSERT(contact_id) ON TABLE public.campaign_unsubscribes TO authenticated;

GRANT INSERT(reason) ON TABLE public.campaign_unsubscribes TO authenticated;

GRANT ALL ON TABLE public.scrape_results TO service_role;
GRANT SELECT ON TABLE public.scrape_results TO authenticated;

GRANT ALL ON TABLE public.search_tasks TO service_role;
GRANT SELECT ON TABLE public.search_tasks TO authenticated;

GRANT SELECT ON TABLE public.campaign_stats TO authenticated;
GRANT ALL ON TABLE public.campaign_stats TO service_role;

GRANT ALL ON TABLE public.contacts TO service_role;
GRANT SELECT ON TABLE public.contacts TO authenticated;

GRANT INSERT(organization_id) ON TABLE public.contacts TO authenticated;

GRANT INSERT(email) ON TABLE public.contacts TO authenticated;

GRANT INSERT(phone),UPDATE(phone) ON TABLE public.contacts TO authenticated;

GRANT INSERT(name),UPDATE(name) ON TABLE public.contacts TO authenticated;

GRANT INSERT(language_preference),UPDATE(language_preference) ON TABLE public.contacts TO authenticated;

GRANT UPDATE(reached_status) ON TABLE public.contacts TO authenticated;

GRANT UPDATE(unsubscribe_requested) ON TABLE public.contacts TO authenticated;

GRANT UPDATE(unsubscribe_reason) ON TABLE public.contacts TO authenticated;

GRANT INSERT(extra_data),UPDATE(extra_data) ON TABLE public.contacts TO authenticated;

GRANT ALL ON TABLE public.outreach_flows TO service_role;
GRANT SELECT ON TABLE public.outreach_flows TO authenticated;

GRANT UPDATE(status) ON TABLE public.outreach_flows TO authenticated;

GRANT UPDATE(subject) ON TABLE public.outreach_flows TO authenticated;

GRANT UPDATE(body) ON TABLE public.outreach_flows TO authenticated;

GRANT UPDATE(scheduled_send_time) ON TABLE public.outreach_flows TO authenticated;

GRANT SELECT ON TABLE public.complaint_rates TO authenticated;
GRANT ALL ON TABLE public.complaint_rates TO service_role;

GRANT SELECT ON TABLE public.contact_forms TO authenticated;
GRANT ALL ON TABLE public.contact_forms TO service_role;

GRANT SELECT ON TABLE public.feedback_reports TO authenticated;
GRANT ALL ON TABLE public.feedback_reports TO service_role;

GRANT SELECT ON TABLE public.inbound_quarantine TO authenticated;
GRANT ALL ON TABLE public.inbound_quarantine TO service_role;

GRANT UPDATE(read_again) ON TABLE public.inbound_quarantine TO authenticated;

GRANT ALL ON TABLE public.organization_members TO service_role;
GRANT SELECT,DELETE ON TABLE public.organization_members TO authenticated;

GRANT INSERT(organization_id) ON TABLE public.organization_members TO authenticated;

GRANT INSERT(user_id) ON TABLE public.organization_members TO authenticated;

GRANT INSERT(role),UPDATE(role) ON TABLE public.organization_members TO authenticated;

GRANT ALL ON TABLE public.organizations TO service_role;
GRANT SELECT ON TABLE public.organizations TO authenticated;

GRANT UPDATE(org_name) ON TABLE public.organizations TO authenticated;

GRANT UPDATE(daily_send_cap) ON TABLE public.organizations TO authenticated;

GRANT SELECT ON TABLE public.public_mail_domains TO authenticated;
GRANT ALL ON TABLE public.public_mail_domains TO service_role;

GRANT ALL ON TABLE public.send_spacing TO service_role;

GRANT SELECT ON TABLE public.sender_domain_status TO authenticated;
GRANT ALL ON TABLE public.sender_domain_status TO service_role;

GRANT ALL ON TABLE public.sender_domains TO service_role;
GRANT SELECT ON TABLE public.sender_domains TO authenticated;

GRANT ALL ON TABLE public.sns_messages TO service_role;

GRANT SELECT ON TABLE public.webhook_deliveries TO authenticated;
GRANT ALL ON TABLE public.webhook_deliveries TO service_role;

GRANT DELETE ON TABLE public.webhook_endpoints TO authenticated;
GRANT ALL ON TABLE public.webhook_endpoints TO service_role;

GRANT SELECT(id) ON TABLE public.webhook_endpoints TO authenticated;

GRANT SELECT(organization_id) ON TABLE public.webhook_endpoints TO authenticated;

GRANT SELECT(url) ON TABLE public.webhook_endpoints TO authenticated;

GRANT SELECT(events) ON TABLE public.webhook_endpoints TO authenticated;

GRANT SELECT(active),UPDATE(active) ON TABLE public.webhook_endpoints TO authenticated;

GRANT SELECT(created_at) ON TABLE public.webhook_endpoints TO authenticated;

GRANT SELECT(updated_at) ON TABLE public.webhook_endpoints TO authenticated;

ALTER DEFAULT PRIVILEGES FOR ROLE postgres REVOKE ALL ON FUNCTIONS FROM PUBLIC;
