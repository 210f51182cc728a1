-- send_due's per-message statements, made cheaper.
--
-- 1. The in-flight rows (status 'sending') indexed by id instead of by lease. send_due touches
-- each in-flight row by id ("id = … AND status = 'sending'": begin-send, the outcome records).
-- The planner sees this partial index as nearly empty and often prefers it to the primary key;
-- keyed by lease, it then walked every in-flight row to find the one (about 0.3 ms for 500 in
-- flight, per message). Keyed by id it is a lookup whichever index is chosen. The lease reaper
-- reads all the in-flight rows anyway, and there are few of them.
DROP INDEX public.outreach_flows_sending_idx;
CREATE INDEX outreach_flows_sending_idx ON public.outreach_flows (id) WHERE status = 'sending';

-- 2. suppression_reason, the same rules in PL/pgSQL. A SQL function that cannot be inlined
-- (SECURITY DEFINER, SET search_path) has its body parsed and planned again in every statement
-- that calls it, and the check before each send calls it once per message; PL/pgSQL keeps its
-- plans for the session.
CREATE OR REPLACE FUNCTION public.suppression_reason(contact uuid, campaign uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
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
