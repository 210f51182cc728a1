-- Discovery: search results become scrape results; scraped pages become contacts.

-- name: get-task-context
SELECT t.id, t.search_query, t.language, c.id AS campaign_id, c.organization_id, c.status AS campaign_status
FROM search_tasks t JOIN campaigns c ON c.id = t.campaign_id
WHERE t.id = %(id)s;

-- name: insert-scrape-result
INSERT INTO scrape_results (search_task_id, website_url)
VALUES (%(search_task_id)s, %(website_url)s)
ON CONFLICT (search_task_id, website_url) DO NOTHING
RETURNING id;

-- name: get-scrape-context
SELECT s.id, s.website_url, t.language, t.campaign_id, c.organization_id, c.default_language,
       c.ai_settings #>> '{sending_window,timezone}' AS timezone,
       coalesce((c.ai_settings ->> 'per_company')::integer, 1) AS per_company,
       coalesce(c.ai_settings -> 'channels', '["email"]') ? 'form' AS form_channel
FROM scrape_results s
JOIN search_tasks t ON t.id = s.search_task_id
JOIN campaigns c ON c.id = t.campaign_id
WHERE s.id = %(id)s;

-- name: save-scrape
UPDATE scrape_results
SET extracted_emails = %(emails)s, extracted_phone = %(phones)s, raw_content = %(text)s,
    page_title = %(title)s, page_description = %(description)s, site_name = %(site_name)s,
    pages_fetched = %(pages)s
WHERE id = %(id)s;

-- name: upsert-contact
-- An address already known in the organization is kept and enriched, never duplicated.
INSERT INTO contacts (organization_id, source_scrape_id, email, phone, name, language_preference, extra_data, timezone)
VALUES (%(organization_id)s, %(scrape_id)s, %(email)s, %(phone)s, %(name)s, %(language)s, %(extra)s, %(timezone)s)
ON CONFLICT (organization_id, (lower(email))) DO UPDATE
SET phone = coalesce(contacts.phone, EXCLUDED.phone),
    timezone = coalesce(contacts.timezone, EXCLUDED.timezone),
    name = coalesce(contacts.name, EXCLUDED.name),
    source_scrape_id = coalesce(contacts.source_scrape_id, EXCLUDED.source_scrape_id),
    language_preference = coalesce(contacts.language_preference, EXCLUDED.language_preference),
    extra_data = EXCLUDED.extra_data || contacts.extra_data
RETURNING id, public.suppression_reason(id, %(campaign_id)s) IS NOT NULL AS suppressed;

-- name: link-contact
-- Not for contacts who said no (unsubscribed, bounced, complained, replied).
INSERT INTO campaign_contacts (campaign_id, contact_id)
SELECT %(campaign_id)s, %(contact_id)s
WHERE public.suppression_reason(%(contact_id)s, %(campaign_id)s) IS NULL
ON CONFLICT (campaign_id, contact_id) DO NOTHING
RETURNING contact_id;

-- name: enrolled-at-company
-- How many contacts of this campaign write from this company's domain (or a subdomain of it).
SELECT count(*) AS n
FROM campaign_contacts x JOIN contacts ct ON ct.id = x.contact_id
WHERE x.campaign_id = %(campaign_id)s
  AND (lower(split_part(ct.email, '@', 2)) = %(domain)s
       OR lower(split_part(ct.email, '@', 2)) LIKE '%%.' || %(domain)s);

-- name: is-public-mail-domain
SELECT EXISTS (SELECT 1 FROM public_mail_domains WHERE domain = %(domain)s) AS public;

-- name: save-contact-form
INSERT INTO contact_forms (organization_id, scrape_result_id, site, page_url, action, method, enctype, fields, roles)
VALUES (%(organization_id)s, %(scrape_id)s, %(site)s, %(page_url)s, %(action)s, %(method)s, %(enctype)s, %(fields)s, %(roles)s)
ON CONFLICT (scrape_result_id, page_url, action) DO UPDATE SET fields = EXCLUDED.fields, roles = EXCLUDED.roles
RETURNING id;

-- name: upsert-form-contact
-- A business reachable only by its contact form: one contact per site per organization, its
-- newest form kept.
INSERT INTO contacts (organization_id, source_scrape_id, contact_form_id, form_site, name, extra_data, timezone)
VALUES (%(organization_id)s, %(scrape_id)s, %(form_id)s, %(site)s, %(name)s, %(extra)s, %(timezone)s)
ON CONFLICT (organization_id, form_site) WHERE email IS NULL DO UPDATE
SET contact_form_id = EXCLUDED.contact_form_id,
    name = coalesce(contacts.name, EXCLUDED.name),
    extra_data = EXCLUDED.extra_data || contacts.extra_data
RETURNING id, public.suppression_reason(id, %(campaign_id)s) IS NOT NULL AS suppressed;
