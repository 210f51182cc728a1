-- Allowed values for every status, role and type column, and the checks and uniqueness the
-- seed leaves to application code.

ALTER TABLE public.organization_members
  ADD CONSTRAINT organization_members_role_check CHECK (role IN ('member', 'admin')),
  ADD CONSTRAINT organization_members_unique UNIQUE (organization_id, user_id);

ALTER TABLE public.campaigns
  ADD CONSTRAINT campaigns_status_check CHECK (status IN ('active', 'paused', 'completed')),
  ADD CONSTRAINT campaigns_word_limit_check CHECK (word_limit IS NULL OR word_limit BETWEEN 20 AND 1000),
  ADD CONSTRAINT campaigns_ai_settings_object CHECK (jsonb_typeof(ai_settings) = 'object');

ALTER TABLE public.search_tasks
  ADD CONSTRAINT search_tasks_status_check
    CHECK (status IN ('pending', 'in_progress', 'completed', 'failed'));

ALTER TABLE public.scrape_results
  ADD CONSTRAINT scrape_results_status_check
    CHECK (status IN ('pending', 'scraping', 'completed', 'failed', 'skipped')),
  ADD CONSTRAINT scrape_results_task_url_unique UNIQUE (search_task_id, website_url);

ALTER TABLE public.contacts
  ADD CONSTRAINT contacts_reached_status_check
    CHECK (reached_status IN ('pending', 'responded', 'unsubscribed', 'bounced', 'complained')),
  ADD CONSTRAINT contacts_email_shape CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  ADD CONSTRAINT contacts_extra_data_object CHECK (jsonb_typeof(extra_data) = 'object');

-- 'draft' holds a sequence waiting for a person's review; 'sending' is claimed by a sender.
ALTER TABLE public.outreach_flows
  ADD CONSTRAINT outreach_flows_flow_type_check CHECK (flow_type IN ('email', 'form_submission')),
  ADD CONSTRAINT outreach_flows_status_check
    CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'failed', 'canceled')),
  ADD CONSTRAINT outreach_flows_sequence_order_check CHECK (sequence_order >= 0),
  ADD CONSTRAINT outreach_flows_step_unique UNIQUE (campaign_id, contact_id, sequence_order);

ALTER TABLE public.campaign_unsubscribes
  ADD CONSTRAINT campaign_unsubscribes_unique UNIQUE (campaign_id, contact_id);

-- The seed's section 1.3: a campaign and a contact linked together belong to one organization.
CREATE OR REPLACE FUNCTION public.ensure_same_organization() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
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
  RETURN NEW;
END
$$;

CREATE TRIGGER campaign_contacts_same_organization
  BEFORE INSERT OR UPDATE OF campaign_id, contact_id ON public.campaign_contacts
  FOR EACH ROW EXECUTE FUNCTION public.ensure_same_organization();

CREATE TRIGGER outreach_flows_same_organization
  BEFORE INSERT OR UPDATE OF campaign_id, contact_id ON public.outreach_flows
  FOR EACH ROW EXECUTE FUNCTION public.ensure_same_organization();

CREATE TRIGGER campaign_unsubscribes_same_organization
  BEFORE INSERT OR UPDATE OF campaign_id, contact_id ON public.campaign_unsubscribes
  FOR EACH ROW EXECUTE FUNCTION public.ensure_same_organization();
