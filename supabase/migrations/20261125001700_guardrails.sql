-- Deliverability guardrails (issue 17): each contact's time zone, circuit breakers on bounces
-- and complaints per campaign and per mailbox, and one conversation per company.

-- The contact's IANA time zone, inferred when it is found (its phone, its site's country, the
-- campaign's zone); NULL: inferred when it is needed.
ALTER TABLE public.contacts ADD COLUMN timezone text
  CHECK (timezone IS NULL OR length(timezone) <= 64);

-- Why a campaign or a mailbox paused itself; cleared when a person resumes it.
ALTER TABLE public.campaigns ADD COLUMN paused_reason text;
ALTER TABLE public.mailboxes ADD COLUMN paused_reason text;

-- ai_settings: channels (["email"] by default; "form" reaches businesses with a contact form and
-- no address, issue 18); sending_window.timezone may be "recipient" (each contact's own zone); per_company
-- (contacts enrolled per company, 1 to 50, default 1); breaker (the thresholds of the circuit
-- breaker: bounce_rate and complaint_rate from 0 to 1, min_sent from 1 to 100000).
ALTER FUNCTION private.campaign_settings_problem(jsonb) RENAME TO campaign_settings_problem_before_guardrails;
CREATE FUNCTION private.campaign_settings_problem(settings jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = '' AS $$
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
REVOKE ALL ON FUNCTION private.campaign_settings_problem(jsonb) FROM PUBLIC;

-- The circuit breaker. Over the delivery attempts of the last 7 days (messages sent or being
-- sent, and those refused for good at once), the share whose contact bounced or complained. Reaching a
-- threshold once at least min_sent went out pauses the campaign, and each mailbox the same way,
-- with the reason. Run as each bounce or complaint is recorded, whichever way it arrives (the
-- SMTP answer, a bounce report read from a mailbox, SES through SNS, an event), so the next
-- message's check just before its send already finds the campaign or the mailbox paused.
CREATE FUNCTION private.breaker_reason(attempts bigint, bounced bigint, complained bigint, limits jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
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

-- The delivery attempts of the last 7 days of one campaign or one mailbox (sent, begun and still
-- in flight, or refused for good at once), and how many of their contacts bounced or complained.
CREATE FUNCTION private.recent_attempts(campaign uuid, mailbox uuid,
                                        OUT attempts bigint, OUT bounced bigint, OUT complained bigint)
LANGUAGE sql STABLE SET search_path = '' AS $$
  SELECT count(*), count(*) FILTER (WHERE ct.reached_status = 'bounced'),
         count(*) FILTER (WHERE ct.reached_status = 'complained')
  FROM public.outreach_flows f JOIN public.contacts ct ON ct.id = f.contact_id
  WHERE (f.campaign_id = campaign OR f.mailbox_id = mailbox)
    AND (f.status = 'sent' OR (f.status = 'sending' AND f.message_id IS NOT NULL)
         OR (f.status = 'failed' AND f.status_reason LIKE 'hard bounce:%'))
    AND coalesce(f.sent_at, f.scheduled_send_time) > now() - interval '7 days'
$$;

CREATE FUNCTION private.trip_breakers() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
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
REVOKE ALL ON FUNCTION private.trip_breakers(), private.breaker_reason(bigint, bigint, bigint, jsonb),
  private.recent_attempts(uuid, uuid) FROM PUBLIC;
CREATE TRIGGER contacts_trip_breakers
  AFTER UPDATE OF reached_status ON public.contacts
  FOR EACH ROW WHEN (NEW.reached_status IN ('bounced', 'complained') AND OLD.reached_status IS DISTINCT FROM NEW.reached_status)
  EXECUTE FUNCTION private.trip_breakers();

-- Only a person resumes: making the campaign (or mailbox) active again clears the reason.
CREATE FUNCTION private.clear_paused_reason() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  NEW.paused_reason := NULL;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION private.clear_paused_reason() FROM PUBLIC;
CREATE TRIGGER campaigns_clear_paused_reason BEFORE UPDATE OF status ON public.campaigns
  FOR EACH ROW WHEN (NEW.status = 'active') EXECUTE FUNCTION private.clear_paused_reason();
CREATE TRIGGER mailboxes_clear_paused_reason BEFORE UPDATE OF active ON public.mailboxes
  FOR EACH ROW WHEN (NEW.active) EXECUTE FUNCTION private.clear_paused_reason();

-- One conversation per company: when anyone at a company replies, bounces or unsubscribes, the
-- waiting messages to the others at that company (the same domain of address, public mail
-- domains apart) stop in the campaigns they share with that person.
CREATE TABLE public.public_mail_domains (domain text PRIMARY KEY CHECK (domain = lower(domain)));
INSERT INTO public.public_mail_domains (domain) VALUES
  ('gmail.com'), ('googlemail.com'), ('yahoo.com'), ('yahoo.es'), ('yahoo.fr'), ('yahoo.de'), ('yahoo.co.uk'),
  ('ymail.com'), ('hotmail.com'), ('hotmail.es'), ('hotmail.fr'), ('hotmail.de'), ('hotmail.co.uk'),
  ('outlook.com'), ('outlook.es'), ('outlook.fr'), ('outlook.de'), ('live.com'), ('msn.com'), ('aol.com'),
  ('icloud.com'), ('me.com'), ('mac.com'), ('proton.me'), ('protonmail.com'), ('gmx.com'), ('gmx.de'),
  ('gmx.net'), ('web.de'), ('t-online.de'), ('orange.fr'), ('free.fr'), ('laposte.net'), ('sfr.fr'),
  ('wanadoo.fr'), ('libero.it'), ('mail.ru'), ('yandex.ru'), ('yandex.com'), ('zoho.com'), ('qq.com'),
  ('163.com'), ('terra.com.br'), ('uol.com.br'), ('bol.com.br'), ('telefonica.net'), ('movistar.es');
ALTER TABLE public.public_mail_domains ENABLE ROW LEVEL SECURITY;
CREATE POLICY public_mail_domains_select ON public.public_mail_domains FOR SELECT TO authenticated USING (true);
REVOKE ALL ON public.public_mail_domains FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.public_mail_domains TO authenticated;
GRANT ALL ON public.public_mail_domains TO service_role;

CREATE FUNCTION private.stop_the_company() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
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
REVOKE ALL ON FUNCTION private.stop_the_company() FROM PUBLIC;
CREATE TRIGGER contacts_stop_the_company
  AFTER UPDATE OF reached_status, unsubscribe_requested ON public.contacts
  FOR EACH ROW WHEN (NEW.reached_status <> 'pending' AND (OLD.reached_status IS DISTINCT FROM NEW.reached_status
                                                         OR OLD.unsubscribe_requested IS DISTINCT FROM NEW.unsubscribe_requested))
  EXECUTE FUNCTION private.stop_the_company();
-- A campaign unsubscribe stops the others at that company in that campaign.
CREATE FUNCTION private.stop_the_company_in_campaign() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
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
REVOKE ALL ON FUNCTION private.stop_the_company_in_campaign() FROM PUBLIC;
CREATE TRIGGER campaign_unsubscribes_stop_the_company AFTER INSERT ON public.campaign_unsubscribes
  FOR EACH ROW EXECUTE FUNCTION private.stop_the_company_in_campaign();
CREATE INDEX contacts_organization_domain_idx ON public.contacts (organization_id, lower(split_part(email, '@', 2)));

-- campaign_stats: the contacts who answered (a reply or a request to stop, read from the
-- mailboxes, migration …1600), and why a campaign paused itself.
CREATE OR REPLACE VIEW public.campaign_stats WITH (security_invoker = true) AS
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
  coalesce(oo.unsubscribed, 0) AS unsubscribed_everywhere,
  coalesce(oo.bounced, 0) AS bounced_or_complained,
  coalesce(cc.prompt_tokens, 0)::bigint AS prompt_tokens,
  coalesce(cc.completion_tokens, 0)::bigint AS completion_tokens,
  coalesce(im.replied, 0) AS replied,
  c.paused_reason
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
LEFT JOIN LATERAL (
  SELECT jsonb_object_agg(status, n) AS counts, sum(p) AS prompt_tokens, sum(q) AS completion_tokens FROM (
    SELECT x.status, count(*) AS n, sum(x.prompt_tokens) AS p, sum(x.completion_tokens) AS q
    FROM public.campaign_contacts x WHERE x.campaign_id = c.id GROUP BY x.status) s
) cc ON true
LEFT JOIN LATERAL (
  SELECT jsonb_object_agg(status, n) AS counts FROM (
    SELECT o.status, count(*) AS n FROM public.outreach_flows o WHERE o.campaign_id = c.id GROUP BY o.status) s
) f ON true
LEFT JOIN LATERAL (
  SELECT count(*) AS n FROM public.campaign_unsubscribes x WHERE x.campaign_id = c.id
) u ON true
LEFT JOIN (
  SELECT x.campaign_id, ct.organization_id,
         count(*) FILTER (WHERE ct.unsubscribe_requested) AS unsubscribed,
         count(*) FILTER (WHERE ct.reached_status IN ('bounced', 'complained')) AS bounced
  FROM public.contacts ct JOIN public.campaign_contacts x ON x.contact_id = ct.id
  WHERE ct.unsubscribe_requested OR ct.reached_status IN ('unsubscribed', 'bounced', 'complained')
  GROUP BY x.campaign_id, ct.organization_id
) oo ON oo.campaign_id = c.id AND oo.organization_id = c.organization_id
LEFT JOIN LATERAL (
  SELECT count(DISTINCT m.contact_id) AS replied FROM public.inbound_messages m
  WHERE m.campaign_id = c.id AND m.kind IN ('reply', 'stop_request')
) im ON true;

-- Members read the reasons and the contact's zone with the rest of their rows.
GRANT SELECT (paused_reason) ON public.mailboxes TO authenticated;
