-- What the pipeline needs to retry work safely: attempts, the reason for a row's status, a
-- lease while a worker holds the row, and the earliest time of the next attempt.

ALTER TABLE public.search_tasks
  ADD COLUMN attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  ADD COLUMN status_reason text,
  ADD COLUMN lease_expires_at timestamptz,
  ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE public.scrape_results
  ADD COLUMN attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  ADD COLUMN status_reason text,
  ADD COLUMN lease_expires_at timestamptz,
  ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now();

-- The seed's bridging row has no state; drafting a sequence for it is a stage of its own.
ALTER TABLE public.campaign_contacts
  ADD COLUMN status text NOT NULL DEFAULT 'pending'
    CONSTRAINT campaign_contacts_status_check
    CHECK (status IN ('pending', 'drafting', 'drafted', 'failed', 'skipped')),
  ADD COLUMN attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  ADD COLUMN status_reason text,
  ADD COLUMN lease_expires_at timestamptz,
  ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE public.outreach_flows
  ADD COLUMN attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  ADD COLUMN status_reason text,
  ADD COLUMN lease_expires_at timestamptz;

CREATE OR REPLACE FUNCTION public.set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER organizations_updated_at BEFORE UPDATE ON public.organizations
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER campaigns_updated_at BEFORE UPDATE ON public.campaigns
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER search_tasks_updated_at BEFORE UPDATE ON public.search_tasks
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER scrape_results_updated_at BEFORE UPDATE ON public.scrape_results
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER contacts_updated_at BEFORE UPDATE ON public.contacts
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER campaign_contacts_updated_at BEFORE UPDATE ON public.campaign_contacts
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER outreach_flows_updated_at BEFORE UPDATE ON public.outreach_flows
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
