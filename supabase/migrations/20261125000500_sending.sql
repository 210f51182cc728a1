-- What send_due needs beyond the seed: an organization-wide daily cap, per-recipient-domain
-- spacing shared by every sender instance, and an index for the rolling 24-hour counts.

ALTER TABLE public.organizations
  ADD COLUMN daily_send_cap int NOT NULL DEFAULT 1000 CHECK (daily_send_cap BETWEEN 0 AND 1000000);

-- The earliest moment the next message to a recipient domain may be claimed.
CREATE TABLE public.send_spacing (
  domain text PRIMARY KEY,
  next_allowed_at timestamptz NOT NULL
);
ALTER TABLE public.send_spacing ENABLE ROW LEVEL SECURITY;  -- internal: no policy, no API access
REVOKE ALL ON public.send_spacing FROM anon, authenticated;

CREATE INDEX outreach_flows_sent_idx ON public.outreach_flows (campaign_id, sent_at) WHERE status = 'sent';
CREATE INDEX outreach_flows_thread_idx ON public.outreach_flows (contact_id, campaign_id, sequence_order);

-- Why a contact must not get this campaign's mail, or NULL when they may (promise 2). One
-- definition, used by the claim, the check just before each send and the cancel sweep.
CREATE OR REPLACE FUNCTION public.suppression_reason(contact uuid, campaign uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT CASE
    WHEN ct.unsubscribe_requested OR ct.reached_status = 'unsubscribed'
      THEN 'the contact unsubscribed from everything the organization sends'
    WHEN ct.reached_status = 'bounced' THEN 'the address bounced'
    WHEN ct.reached_status = 'complained' THEN 'the contact complained'
    WHEN ct.reached_status = 'responded' THEN 'the contact replied'
    WHEN EXISTS (SELECT 1 FROM public.campaign_unsubscribes u WHERE u.contact_id = contact AND u.campaign_id = campaign)
      THEN 'the contact unsubscribed from this campaign'
  END
  FROM public.contacts ct WHERE ct.id = contact
$$;
REVOKE ALL ON FUNCTION public.suppression_reason(uuid, uuid) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.suppression_reason(uuid, uuid) TO authenticated, service_role;
