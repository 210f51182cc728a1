-- An index on every foreign key not already led by a unique index, and the partial indexes
-- the sender's claim and the drains use.

CREATE INDEX organization_members_user_idx ON public.organization_members (user_id);
CREATE INDEX campaigns_organization_idx ON public.campaigns (organization_id);
CREATE INDEX campaigns_created_by_idx ON public.campaigns (created_by);
CREATE INDEX search_tasks_campaign_idx ON public.search_tasks (campaign_id);
CREATE INDEX contacts_source_scrape_idx ON public.contacts (source_scrape_id);
CREATE INDEX campaign_contacts_contact_idx ON public.campaign_contacts (contact_id);
CREATE INDEX outreach_flows_contact_idx ON public.outreach_flows (contact_id);
CREATE INDEX campaign_unsubscribes_contact_idx ON public.campaign_unsubscribes (contact_id);
-- scrape_results(search_task_id), contacts(organization_id), campaign_contacts(campaign_id),
-- outreach_flows(campaign_id) and campaign_unsubscribes(campaign_id) lead unique indexes already.

-- send_due's claim: scheduled rows by send time, and sending rows by lease for the reaper.
CREATE INDEX outreach_flows_due_idx ON public.outreach_flows (scheduled_send_time)
  WHERE status = 'scheduled';
CREATE INDEX outreach_flows_sending_idx ON public.outreach_flows (lease_expires_at)
  WHERE status = 'sending';
CREATE INDEX outreach_flows_message_id_idx ON public.outreach_flows (message_id)
  WHERE message_id IS NOT NULL;

-- The drains: rows still waiting, or held by a worker whose lease may have run out.
CREATE INDEX search_tasks_open_idx ON public.search_tasks (next_attempt_at)
  WHERE status IN ('pending', 'in_progress');
CREATE INDEX scrape_results_open_idx ON public.scrape_results (next_attempt_at)
  WHERE status IN ('pending', 'scraping');
CREATE INDEX campaign_contacts_open_idx ON public.campaign_contacts (next_attempt_at)
  WHERE status IN ('pending', 'drafting');
