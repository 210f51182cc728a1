-- Campaign settings checked by the database with the rules of shared/campaign_settings.py, so
-- no path (create_campaign, the Data API, SQL) stores settings the functions cannot read: one
-- admin's {"daily_cap": "unlimited"} once stopped every organization's mail. A test holds the
-- two rule sets to each other. Also: the domains an organization may send from.

CREATE SCHEMA IF NOT EXISTS private;
REVOKE ALL ON SCHEMA private FROM PUBLIC;

-- A JSON whole number within [low, high] (not 1.5, not "3", not true). No SET search_path here
-- and in campaign_daily_cap: the planner then inlines both into the claim statement, instead of
-- calling them for each locked row (16 ms of a 200-row claim).
CREATE OR REPLACE FUNCTION private.whole_number(value jsonb, low integer, high integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN jsonb_typeof(value) = 'number' AND value::text ~ '^-?[0-9]{1,9}$'
      THEN value::text::integer BETWEEN low AND high
    ELSE false
  END
$$;

-- A display name on one line, 1 to 100 characters, without <, >, quotes or control characters (or
-- JSON null).
CREATE OR REPLACE FUNCTION private.plain_name(value jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = '' AS $$
  SELECT value IS NULL OR jsonb_typeof(value) = 'null'
      OR (jsonb_typeof(value) = 'string' AND char_length(value #>> '{}') BETWEEN 1 AND 100
          AND (value #>> '{}') !~ '[[:cntrl:]<>"]' AND (value #>> '{}') ~ '\S')
$$;

-- The first key of a JSON object that is not in `known`, or NULL.
CREATE OR REPLACE FUNCTION private.unknown_key(value jsonb, known text[]) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = '' AS $$
  SELECT k FROM jsonb_object_keys(value) k WHERE k <> ALL (known) ORDER BY k LIMIT 1
$$;

-- What is wrong with a campaign's ai_settings, or NULL when nothing is.
CREATE OR REPLACE FUNCTION private.campaign_settings_problem(settings jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = '' AS $$
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
$$;

-- The campaign's daily cap as send_due reads it: the default when unset, NULL when unreadable
-- (then only that campaign's messages wait, with the reason).
CREATE OR REPLACE FUNCTION private.campaign_daily_cap(settings jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN NOT (settings ? 'daily_cap') THEN 200
    WHEN private.whole_number(settings -> 'daily_cap', 1, 10000) THEN (settings ->> 'daily_cap')::integer
  END
$$;

-- Domains an organization may send from (a campaign's sender_email). Written by the operator
-- after checking the organization controls the domain; members read them.
CREATE TABLE public.sender_domains (
  organization_id uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  domain text NOT NULL CHECK (domain = lower(domain) AND domain ~ '^[^@\s]+\.[^@\s.]+$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, domain)
);
ALTER TABLE public.sender_domains ENABLE ROW LEVEL SECURITY;
CREATE POLICY sender_domains_select ON public.sender_domains FOR SELECT TO authenticated
  USING (public.is_org_member(organization_id));
REVOKE ALL ON public.sender_domains FROM PUBLIC, anon, authenticated;
GRANT SELECT ON public.sender_domains TO authenticated;
GRANT ALL ON public.sender_domains TO service_role;

CREATE OR REPLACE FUNCTION private.check_campaign_settings() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
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
REVOKE ALL ON FUNCTION private.check_campaign_settings() FROM PUBLIC;

CREATE TRIGGER campaigns_check_settings
  BEFORE INSERT OR UPDATE OF ai_settings, organization_id ON public.campaigns
  FOR EACH ROW EXECUTE FUNCTION private.check_campaign_settings();
