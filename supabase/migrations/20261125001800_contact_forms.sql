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
