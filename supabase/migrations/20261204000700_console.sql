-- The team's console (functions/console) reads as the signed-in member, through the same grants
-- and row level security as the Data API. These indexes keep each of its views' first page a
-- short index range at volume (10,000 drafts and 1,000,000 messages in one organization), with
-- keyset pagination: no view counts or skips rows it does not show.

-- The review queue: an organization's drafts, oldest first, by (created_at, id).
CREATE INDEX outreach_flows_drafts_idx ON public.outreach_flows (organization_id, created_at, id)
  WHERE status = 'draft';

-- Per-step and per-mailbox figures of one campaign, read index-only.
CREATE INDEX outreach_flows_campaign_step_idx ON public.outreach_flows (campaign_id, sequence_order, status)
  INCLUDE (organization_id);
CREATE INDEX outreach_flows_campaign_mailbox_idx ON public.outreach_flows (campaign_id, mailbox_id, status)
  INCLUDE (organization_id);

-- The inbox: people's answers, newest first, by (received_at, id).
CREATE INDEX inbound_messages_inbox_idx ON public.inbound_messages (organization_id, received_at DESC, id DESC)
  WHERE kind IN ('reply', 'stop_request');

-- Contact search: a prefix of the address, the name or the company (the address's domain, or
-- the site of a contact reached by form). text_pattern_ops: LIKE 'prefix%' uses the index
-- whatever the database's collation.
CREATE INDEX contacts_search_email_idx ON public.contacts (organization_id, lower(email) text_pattern_ops);
CREATE INDEX contacts_search_name_idx ON public.contacts (organization_id, lower(name) text_pattern_ops);
CREATE INDEX contacts_search_company_idx
  ON public.contacts (organization_id, lower(coalesce(form_site, split_part(email, '@', 2))) text_pattern_ops);
