-- ===================================
-- 0. START: CREATE EXTENSIONS (IF NEEDED)
-- ===================================
-- If you want the uuid_generate_v4 function or other features:
-- CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- ===================================
-- 1. ORGANIZATIONS
-- ===================================
-- Stores each tenant or business
CREATE TABLE IF NOT EXISTS public.organizations (
  id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
  org_name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Optional: some sort of "plan" field or other config if needed
-- plan text DEFAULT 'free',

-- ===================================
-- 2. ORGANIZATION_MEMBERS
-- ===================================
-- Each user belongs to an organization with a role
CREATE TABLE IF NOT EXISTS public.organization_members (
  id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
  organization_id uuid NOT NULL,
  user_id uuid NOT NULL,          -- references auth.users(id) or public.profiles(id)
  role text NOT NULL DEFAULT 'member', -- e.g. 'member','admin'
  created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE public.organization_members
  ADD CONSTRAINT fk_org_members_org
    FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

-- If referencing auth.users directly:
ALTER TABLE public.organization_members
  ADD CONSTRAINT fk_org_members_user
    FOREIGN KEY (user_id) REFERENCES auth.users(id);

-- If your user system is in public.profiles, do:
-- FOREIGN KEY (user_id) REFERENCES public.profiles(id);

-- ===================================
-- 3. CAMPAIGNS
-- ===================================
-- Each outreach campaign belongs to an org and can have custom AI settings
CREATE TABLE IF NOT EXISTS public.campaigns (
  id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
  organization_id uuid NOT NULL,
  campaign_name text NOT NULL,
  instructions text,              -- AI instructions or campaign notes
  tone text,                      -- optional: e.g. 'friendly','formal'
  word_limit int,                 -- optional: limit for AI
  ai_settings jsonb NOT NULL DEFAULT '{}'::jsonb, -- advanced config
  default_language text,          -- e.g. 'en','es'
  status text NOT NULL DEFAULT 'active', -- 'active','paused','completed'
  created_by uuid,                -- references user, if we want to store the user who created campaign
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE public.campaigns
  ADD CONSTRAINT fk_campaigns_org
    FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

-- If you want to store the user who created it:
ALTER TABLE public.campaigns
  ADD CONSTRAINT fk_campaigns_created_by
    FOREIGN KEY (created_by) REFERENCES auth.users(id);

-- ===================================
-- 4. SEARCH_TASKS
-- ===================================
-- For each campaign, we can define queries
CREATE TABLE IF NOT EXISTS public.search_tasks (
  id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
  campaign_id uuid NOT NULL,
  search_query text NOT NULL,    -- The actual query: "yoga studios in Florida"
  language text,                 -- 'en','es'
  status text NOT NULL DEFAULT 'pending',  -- 'pending','in_progress','completed','failed'
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE public.search_tasks
  ADD CONSTRAINT fk_search_tasks_campaign
    FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id);

-- ===================================
-- 5. SCRAPE_RESULTS
-- ===================================
-- Once we do a search, each discovered link is stored here
CREATE TABLE IF NOT EXISTS public.scrape_results (
  id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
  search_task_id uuid NOT NULL,
  website_url text NOT NULL,
  status text NOT NULL DEFAULT 'pending', -- 'pending','scraping','completed','failed'
  extracted_emails text[],      -- possibly multiple
  extracted_phone text[],
  raw_content text,             -- can store partial HTML or summary
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE public.scrape_results
  ADD CONSTRAINT fk_scrape_results_task
    FOREIGN KEY (search_task_id) REFERENCES public.search_tasks(id);

-- ===================================
-- 6. CONTACTS
-- ===================================
-- The leads discovered or manually added, belongs to an org
CREATE TABLE IF NOT EXISTS public.contacts (
  id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
  organization_id uuid NOT NULL,
  source_scrape_id uuid,        -- optional link to a specific scrape result
  email text NOT NULL,
  phone text,
  name text,
  language_preference text,
  reached_status text NOT NULL DEFAULT 'pending',  -- 'pending','responded','unsubscribed'
  unsubscribe_requested boolean NOT NULL DEFAULT false, -- global unsub
  unsubscribe_reason text,
  extra_data jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE public.contacts
  ADD CONSTRAINT fk_contacts_org
    FOREIGN KEY (organization_id) REFERENCES public.organizations(id);

ALTER TABLE public.contacts
  ADD CONSTRAINT fk_contacts_scrape
    FOREIGN KEY (source_scrape_id) REFERENCES public.scrape_results(id);

-- Unique index to avoid duplicates in a single org
CREATE UNIQUE INDEX IF NOT EXISTS contacts_org_email_unique
  ON public.contacts(organization_id, (lower(email)));

-- ===================================
-- 7. CAMPAIGN_CONTACTS
-- ===================================
-- A bridging table for many-to-many between campaigns and contacts
CREATE TABLE IF NOT EXISTS public.campaign_contacts (
  campaign_id uuid NOT NULL,
  contact_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, contact_id)
);

ALTER TABLE public.campaign_contacts
  ADD CONSTRAINT fk_campaign_contacts_campaign
    FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id);

ALTER TABLE public.campaign_contacts
  ADD CONSTRAINT fk_campaign_contacts_contact
    FOREIGN KEY (contact_id) REFERENCES public.contacts(id);

-- ===================================
-- 8. OUTREACH_FLOWS
-- ===================================
-- Each row is a scheduled or sent attempt to contact
CREATE TABLE IF NOT EXISTS public.outreach_flows (
  id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
  contact_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  flow_type text NOT NULL DEFAULT 'email',  -- 'email','form_submission'
  status text NOT NULL DEFAULT 'scheduled', -- 'scheduled','sent','failed','canceled'
  subject text,
  body text,
  sequence_order int NOT NULL DEFAULT 0,
  scheduled_send_time timestamptz,
  sent_at timestamptz,
  message_id text,     -- store email's message-id or submission id
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE public.outreach_flows
  ADD CONSTRAINT fk_outreach_flows_contact
    FOREIGN KEY (contact_id) REFERENCES public.contacts(id);

ALTER TABLE public.outreach_flows
  ADD CONSTRAINT fk_outreach_flows_campaign
    FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id);

-- ===================================
-- 9. CAMPAIGN_UNSUBSCRIBES (PER-CAMPAIGN UNSUBSCRIBE)
-- ===================================
-- If you want partial unsubscribes for only certain campaigns
CREATE TABLE IF NOT EXISTS public.campaign_unsubscribes (
  id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
  campaign_id uuid NOT NULL,
  contact_id uuid NOT NULL,
  unsubscribed_at timestamptz NOT NULL DEFAULT now(),
  reason text
);

ALTER TABLE public.campaign_unsubscribes
  ADD CONSTRAINT fk_campaign_unsubscribes_campaign
    FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id);

ALTER TABLE public.campaign_unsubscribes
  ADD CONSTRAINT fk_campaign_unsubscribes_contact
    FOREIGN KEY (contact_id) REFERENCES public.contacts(id);

-- ===================================
-- 10. DISABLE RLS IN DEVELOPMENT
-- ===================================
ALTER TABLE public.organizations DISABLE ROW LEVEL SECURITY;
ALTER TABLE public.organization_members DISABLE ROW LEVEL SECURITY;
ALTER TABLE public.campaigns DISABLE ROW LEVEL SECURITY;
ALTER TABLE public.search_tasks DISABLE ROW LEVEL SECURITY;
ALTER TABLE public.scrape_results DISABLE ROW LEVEL SECURITY;
ALTER TABLE public.contacts DISABLE ROW LEVEL SECURITY;
ALTER TABLE public.campaign_contacts DISABLE ROW LEVEL SECURITY;
ALTER TABLE public.outreach_flows DISABLE ROW LEVEL SECURITY;
ALTER TABLE public.campaign_unsubscribes DISABLE ROW LEVEL SECURITY;

-- END OF STEP 1 MIGRATION
