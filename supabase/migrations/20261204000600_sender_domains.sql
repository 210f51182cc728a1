-- The domains an organization sends from (its mailboxes' addresses and its campaigns'
-- sender_email), checked the way Gmail, Yahoo and Outlook.com check bulk senders: SPF, DMARC,
-- the DKIM selectors an admin names, and MX. send_due refreshes each check once a day and,
-- under SENDER_DOMAIN_CHECK=enforce, holds the cold mail of a mailbox whose domain lacks SPF or
-- DMARC. Complaint feedback reports (ARF, RFC 5965) read from the mailboxes are kept here too,
-- and complaint rates per mailbox and per domain are a view beside Gmail's lines.

-- DKIM selectors cannot be listed from DNS: an admin names the ones a mailbox signs with.
-- NULL: the common ones (google, selector1, selector2, default, k1); empty: check none.
ALTER TABLE public.mailboxes ADD COLUMN dkim_selectors text[] CHECK (
  dkim_selectors IS NULL OR cardinality(dkim_selectors) = 0
  OR (cardinality(dkim_selectors) <= 10 AND array_position(dkim_selectors, NULL) IS NULL
      AND array_to_string(dkim_selectors, ',')
          ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(,[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)*$'));
GRANT SELECT (dkim_selectors), UPDATE (dkim_selectors) ON public.mailboxes TO authenticated;

-- One row per organization and sending domain. The verdict columns change only on a complete
-- check: a DNS failure (timeout, SERVFAIL) records dns_error and retries, keeping the verdict.
CREATE TABLE public.sender_domain_checks (
  organization_id uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  domain text NOT NULL CHECK (domain = lower(domain) AND length(domain) BETWEEN 1 AND 253),
  checked_at timestamptz,          -- the last complete check; NULL: none yet
  problem text,                    -- why cold mail waits (missing SPF or DMARC), with the record to publish
  notes text[] NOT NULL DEFAULT '{}',  -- worth fixing, holds nothing: p=none, no DKIM found, no MX…
  spf_record text,
  spf_status text CHECK (spf_status IN ('valid', 'missing', 'invalid')),
  spf_error text,                  -- why it does not parse (more than 10 DNS lookups, two records…)
  spf_lookups integer,
  spf_all text,                    -- how it ends: -all, ~all, ?all, +all, redirect, or NULL
  spf_hosts jsonb NOT NULL DEFAULT '{}',  -- the mailboxes' SMTP hosts -> SPF result for their address
  dmarc_domain text,               -- where the record in force was found (the organizational domain's for a subdomain)
  dmarc_record text,
  dmarc_policy text,               -- p=
  dmarc_subdomain_policy text,     -- sp=
  dmarc_rua text,
  dmarc_adkim text,                -- alignment: r (relaxed, the default) or s (strict)
  dmarc_aspf text,
  dkim_status text CHECK (dkim_status IN ('found', 'not found', 'not checked')),
  dkim jsonb NOT NULL DEFAULT '{}',  -- selector -> "found" or "not found"
  mx_hosts text[],
  dns_error text,
  dns_error_at timestamptz,
  next_check_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, domain)
);
CREATE INDEX sender_domain_checks_due_idx ON public.sender_domain_checks (next_check_at);

-- Each domain an organization sends from gets its row as it starts to: a mailbox's address, an
-- active campaign's sender_email. (send_due forgets a due row no one sends from any more.)
CREATE FUNCTION private.track_sender_domain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
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
REVOKE ALL ON FUNCTION private.track_sender_domain() FROM PUBLIC;
CREATE TRIGGER mailboxes_track_sender_domain AFTER INSERT OR UPDATE OF email ON public.mailboxes
  FOR EACH ROW EXECUTE FUNCTION private.track_sender_domain();
CREATE TRIGGER campaigns_track_sender_domain AFTER INSERT OR UPDATE OF ai_settings, status ON public.campaigns
  FOR EACH ROW EXECUTE FUNCTION private.track_sender_domain();
INSERT INTO public.sender_domain_checks (organization_id, domain)
SELECT organization_id, domain FROM (
  SELECT m.organization_id, split_part(m.email, '@', 2) AS domain FROM public.mailboxes m
  UNION
  SELECT c.organization_id, lower(split_part(c.ai_settings ->> 'sender_email', '@', 2))
  FROM public.campaigns c WHERE c.status = 'active' AND c.ai_settings ? 'sender_email'
) used
WHERE length(domain) BETWEEN 1 AND 253
ON CONFLICT DO NOTHING;

-- Complaint feedback reports (ARF) read from a mailbox. One that quotes no Message-ID this
-- organization sent is kept with flow_id NULL and changes nothing.
CREATE TABLE public.feedback_reports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  mailbox_id uuid REFERENCES public.mailboxes (id) ON DELETE SET NULL,
  flow_id uuid REFERENCES public.outreach_flows (id) ON DELETE SET NULL,
  contact_id uuid REFERENCES public.contacts (id) ON DELETE SET NULL,
  feedback_type text NOT NULL,      -- abuse, fraud (complaints); auth-failure, not-spam, virus, other
  reporter text,                    -- the report's User-Agent
  reported_message_id text,         -- the Message-ID of the returned message
  original_recipient text,
  arrival_date timestamptz,
  received_at timestamptz NOT NULL DEFAULT now(),
  fingerprint text NOT NULL,        -- the report's own Message-ID (or a digest): handled once per mailbox
  UNIQUE (mailbox_id, fingerprint)
);
CREATE INDEX feedback_reports_organization_idx ON public.feedback_reports (organization_id, received_at DESC);
CREATE INDEX feedback_reports_flow_idx ON public.feedback_reports (flow_id);
CREATE INDEX feedback_reports_contact_idx ON public.feedback_reports (contact_id);

ALTER TABLE public.sender_domain_checks ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.feedback_reports ENABLE ROW LEVEL SECURITY;
CREATE POLICY sender_domain_checks_select ON public.sender_domain_checks FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
CREATE POLICY feedback_reports_select ON public.feedback_reports FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
REVOKE ALL ON public.sender_domain_checks, public.feedback_reports FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.sender_domain_checks, public.feedback_reports TO authenticated;
GRANT ALL ON public.sender_domain_checks, public.feedback_reports TO service_role;

-- What the console shows per sending domain: the check, and the organization's mailboxes at it.
-- `problem` holds their first messages and follow-ups under SENDER_DOMAIN_CHECK=enforce.
CREATE VIEW public.sender_domain_status WITH (security_invoker = true) AS
SELECT s.organization_id, s.domain,
       CASE WHEN s.checked_at IS NULL THEN 'not checked yet'
            WHEN s.problem IS NOT NULL THEN 'held'
            ELSE 'ok' END AS status,
       s.problem, s.notes, s.checked_at, s.checked_at < now() - interval '24 hours' AS stale,
       s.dns_error, s.dns_error_at,
       s.spf_status, s.spf_record, s.spf_error, s.spf_lookups, s.spf_all, s.spf_hosts,
       s.dmarc_domain, s.dmarc_record, s.dmarc_policy, s.dmarc_subdomain_policy, s.dmarc_rua,
       s.dmarc_adkim, s.dmarc_aspf, s.dkim_status, s.dkim, s.mx_hosts,
       (SELECT coalesce(array_agg(m.email ORDER BY m.email), '{}') FROM public.mailboxes m
        WHERE m.organization_id = s.organization_id AND split_part(m.email, '@', 2) = s.domain) AS mailboxes
FROM public.sender_domain_checks s;

-- Per campaign, what holds its mail at its sending domains (the mailboxes it may use), for
-- campaign_stats to show: join on campaign_id.
CREATE VIEW public.campaign_sender_domain_problems WITH (security_invoker = true) AS
SELECT c.id AS campaign_id, c.organization_id,
       string_agg(DISTINCT s.domain || ': ' || s.problem, '; ') AS sender_domain_problem
FROM public.campaigns c
JOIN public.mailboxes m ON m.organization_id = c.organization_id
  AND (NOT (c.ai_settings ? 'mailboxes')
       OR m.email IN (SELECT lower(a) FROM jsonb_array_elements_text(
                        CASE WHEN jsonb_typeof(c.ai_settings -> 'mailboxes') = 'array'
                             THEN c.ai_settings -> 'mailboxes' ELSE '[]' END) a))
JOIN public.sender_domain_checks s
  ON s.organization_id = c.organization_id AND s.domain = split_part(m.email, '@', 2)
WHERE s.problem IS NOT NULL
GROUP BY c.id, c.organization_id;

-- Complaints over delivered messages per mailbox and per sending domain, over 7 and 30 days,
-- beside Gmail's lines (keep it under 0.1%, never reach 0.3%). A complaint is a contact who
-- complained (a feedback report, SES, an event) among those the messages went to, counted once.
CREATE VIEW public.complaint_rates WITH (security_invoker = true) AS
WITH sent AS (
  SELECT m.organization_id, m.id AS mailbox_id, m.email, split_part(m.email, '@', 2) AS domain,
         f.contact_id, f.sent_at, ct.reached_status = 'complained' AS complained
  FROM public.mailboxes m
  LEFT JOIN public.outreach_flows f
    ON f.mailbox_id = m.id AND f.status = 'sent' AND f.sent_at > now() - interval '30 days'
  LEFT JOIN public.contacts ct ON ct.id = f.contact_id
),
scoped AS (
  SELECT 'mailbox' AS scope, organization_id, mailbox_id, email, domain, contact_id, sent_at, complained FROM sent
  UNION ALL
  SELECT 'domain', organization_id, NULL, NULL, domain, contact_id, sent_at, complained FROM sent
),
counted AS (
  SELECT scope, organization_id, mailbox_id, email, domain,
         count(sent_at) FILTER (WHERE sent_at > now() - interval '7 days') AS delivered_7d,
         count(DISTINCT contact_id) FILTER (WHERE complained AND sent_at > now() - interval '7 days') AS complaints_7d,
         count(sent_at) AS delivered_30d,
         count(DISTINCT contact_id) FILTER (WHERE complained) AS complaints_30d
  FROM scoped
  GROUP BY scope, organization_id, mailbox_id, email, domain
)
SELECT scope, organization_id, mailbox_id, email, domain,
       delivered_7d, complaints_7d,
       round(complaints_7d::numeric / nullif(delivered_7d, 0), 5) AS complaint_rate_7d,
       delivered_30d, complaints_30d,
       round(complaints_30d::numeric / nullif(delivered_30d, 0), 5) AS complaint_rate_30d,
       0.001 AS gmail_target_rate, 0.003 AS gmail_limit_rate,
       CASE WHEN delivered_7d = 0 THEN 'no mail in 7 days'
            WHEN complaints_7d::numeric / delivered_7d >= 0.003 THEN 'at or above 0.3%'
            WHEN complaints_7d::numeric / delivered_7d >= 0.001 THEN 'at or above 0.1%'
            ELSE 'below 0.1%' END AS standing_7d
FROM counted;

REVOKE ALL ON public.sender_domain_status, public.campaign_sender_domain_problems, public.complaint_rates
  FROM PUBLIC, anon, authenticated;
GRANT SELECT ON public.sender_domain_status, public.campaign_sender_domain_problems, public.complaint_rates
  TO authenticated;
GRANT ALL ON public.sender_domain_status, public.campaign_sender_domain_problems, public.complaint_rates
  TO service_role;
