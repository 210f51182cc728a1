-- The sending domains' checks (SPF, DMARC, DKIM selectors, MX): which are due, what they
-- found, and the verdicts the claim reads.

-- name: forget-unused-sender-domains
-- A due domain no mailbox or active campaign sends from any more is no longer checked. Rows
-- appear by trigger (private.track_sender_domain) as a mailbox or campaign starts to use one.
DELETE FROM sender_domain_checks s
WHERE s.next_check_at <= now()
  AND NOT EXISTS (SELECT 1 FROM mailboxes m
                  WHERE m.organization_id = s.organization_id AND split_part(m.email, '@', 2) = s.domain)
  AND NOT EXISTS (SELECT 1 FROM campaigns c
                  WHERE c.organization_id = s.organization_id AND c.status = 'active'
                    AND lower(split_part(c.ai_settings ->> 'sender_email', '@', 2)) = s.domain);

-- name: claim-sender-domain-checks
-- Due checks, each taken by one instance: its next_check_at moves past a lease, so another
-- instance skips it; a check that never ends is taken again after the lease. With each domain,
-- the SMTP endpoints of the organization's mailboxes at it (their hosts' addresses are checked
-- against SPF) and the DKIM selectors they name (the common ones when one names none).
UPDATE sender_domain_checks s
SET next_check_at = now() + make_interval(secs => %(lease)s)
FROM (
  SELECT organization_id, domain FROM sender_domain_checks
  WHERE next_check_at <= now()
  ORDER BY next_check_at
  LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED
) due
WHERE s.organization_id = due.organization_id AND s.domain = due.domain
RETURNING s.organization_id, s.domain,
  (SELECT coalesce(array_agg(DISTINCT m.smtp_endpoint), '{}') FROM mailboxes m
   WHERE m.organization_id = s.organization_id AND split_part(m.email, '@', 2) = s.domain) AS smtp_endpoints,
  (SELECT coalesce(array_agg(DISTINCT sel), '{}') FROM mailboxes m CROSS JOIN LATERAL unnest(m.dkim_selectors) sel
   WHERE m.organization_id = s.organization_id AND split_part(m.email, '@', 2) = s.domain) AS selectors,
  (NOT EXISTS (SELECT 1 FROM mailboxes m
               WHERE m.organization_id = s.organization_id AND split_part(m.email, '@', 2) = s.domain)
   OR EXISTS (SELECT 1 FROM mailboxes m
              WHERE m.organization_id = s.organization_id AND split_part(m.email, '@', 2) = s.domain
                AND m.dkim_selectors IS NULL)) AS default_selectors;

-- name: store-sender-domain-check
UPDATE sender_domain_checks
SET checked_at = now(), problem = %(problem)s, notes = %(notes)s,
    spf_record = %(spf_record)s, spf_status = %(spf_status)s, spf_error = %(spf_error)s,
    spf_lookups = %(spf_lookups)s, spf_all = %(spf_all)s, spf_hosts = %(spf_hosts)s,
    dmarc_domain = %(dmarc_domain)s, dmarc_record = %(dmarc_record)s, dmarc_policy = %(dmarc_policy)s,
    dmarc_subdomain_policy = %(dmarc_subdomain_policy)s, dmarc_rua = %(dmarc_rua)s,
    dmarc_adkim = %(dmarc_adkim)s, dmarc_aspf = %(dmarc_aspf)s,
    dkim_status = %(dkim_status)s, dkim = %(dkim)s, mx_hosts = %(mx_hosts)s,
    dns_error = NULL, dns_error_at = NULL,
    next_check_at = now() + make_interval(secs => %(every)s)
WHERE organization_id = %(organization_id)s AND domain = %(domain)s;

-- name: sender-domain-check-failed
-- No verdict: the last one stays, and the check is tried again soon.
UPDATE sender_domain_checks
SET dns_error = %(reason)s, dns_error_at = now(), next_check_at = now() + make_interval(secs => %(retry)s)
WHERE organization_id = %(organization_id)s AND domain = %(domain)s;

-- name: sender-domain-verdicts
SELECT organization_id, domain, checked_at, problem, dns_error
FROM sender_domain_checks
WHERE organization_id = ANY(%(organizations)s);
