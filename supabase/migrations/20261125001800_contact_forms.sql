-- Contact forms found while scraping (issue 18, detection): what is needed to fill each usable
-- form. Forms that must never be used (a CAPTCHA, another site's action, JavaScript only, a
-- required file, a no-solicitation notice, robots.txt) are not stored; the scrape result's
-- status_reason says which and why.
CREATE TABLE public.contact_forms (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  scrape_result_id uuid NOT NULL REFERENCES public.scrape_results (id) ON DELETE CASCADE,
  site text NOT NULL,          -- the registered domain: one conversation per site
  page_url text NOT NULL,
  action text NOT NULL,
  method text NOT NULL CHECK (method = 'post'),
  enctype text NOT NULL,
  -- [{name, kind, label, required, maxlength, value (hidden fields), options, role}]
  fields jsonb NOT NULL CHECK (jsonb_typeof(fields) = 'array'),
  roles jsonb NOT NULL,        -- {"name": field, "email": field, "message": field, ...}
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (scrape_result_id, page_url, action)
);
CREATE INDEX contact_forms_organization_site_idx ON public.contact_forms (organization_id, site);

ALTER TABLE public.contact_forms ENABLE ROW LEVEL SECURITY;
CREATE POLICY contact_forms_select ON public.contact_forms FOR SELECT TO authenticated
  USING (organization_id = ANY ((SELECT private.user_organizations())::uuid[]));
REVOKE ALL ON public.contact_forms FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.contact_forms TO authenticated;
GRANT ALL ON public.contact_forms TO service_role;

-- A business with a usable contact form and no address is a contact reachable by form: one per
-- site per organization, enrolled only in campaigns whose ai_settings.channels has "form".
ALTER TABLE public.contacts
  ALTER COLUMN email DROP NOT NULL,
  ADD COLUMN contact_form_id uuid REFERENCES public.contact_forms (id) ON DELETE SET NULL,
  ADD COLUMN form_site text,
  ADD CONSTRAINT contacts_reachable CHECK (email IS NOT NULL OR (contact_form_id IS NOT NULL AND form_site IS NOT NULL));
CREATE UNIQUE INDEX contacts_organization_form_site_idx ON public.contacts (organization_id, form_site)
  WHERE email IS NULL;
CREATE INDEX contacts_contact_form_idx ON public.contacts (contact_form_id);

-- What a form submission's answer showed: status, final URL, the confirmation or error text.
ALTER TABLE public.outreach_flows ADD COLUMN submission jsonb;
-- A form message is always reviewed by a person: drafted as 'draft', whatever
-- review_before_send says, and never sent as email.
CREATE INDEX outreach_flows_form_contact_idx ON public.outreach_flows (contact_id, sent_at)
  WHERE flow_type = 'form_submission';
