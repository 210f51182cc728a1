-- Database webhooks for the row-driven stages, one trigger function for all three.
--
-- The payload is built exactly as Supabase's database webhooks build it. On Supabase, where
-- pg_net is installed and Vault holds the functions' base URL ('outreach_functions_url') and
-- the webhook secret ('outreach_webhook_secret'), it is posted with net.http_post; elsewhere
-- (the embedded database, a local PostgreSQL) it goes out with pg_notify on the channel
-- 'outreach_webhooks', where the local stack's listener turns it into the same HTTP call.
-- Nothing secret is written here: deploy.sh stores both values in Vault.
--
-- pg_net never retries, so the scheduler also drains every stage (promise 3).

CREATE OR REPLACE FUNCTION public.dispatch_webhook() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  target text := TG_ARGV[0];
  payload jsonb := jsonb_build_object(
    'type', TG_OP, 'table', TG_TABLE_NAME, 'schema', TG_TABLE_SCHEMA,
    'record', to_jsonb(NEW), 'old_record', NULL);
  base_url text;
  secret text;
BEGIN
  IF to_regnamespace('net') IS NOT NULL AND to_regclass('vault.decrypted_secrets') IS NOT NULL THEN
    EXECUTE 'SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = $1'
      INTO base_url USING 'outreach_functions_url';
    EXECUTE 'SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = $1'
      INTO secret USING 'outreach_webhook_secret';
  END IF;
  IF base_url IS NOT NULL AND secret IS NOT NULL THEN
    EXECUTE 'SELECT net.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := $4)'
      USING rtrim(base_url, '/') || '/' || target, payload,
            jsonb_build_object('Content-Type', 'application/json', 'X-Webhook-Secret', secret), 8000;
  ELSE
    -- NOTIFY payloads are capped at 8000 bytes; the functions need only the row's key.
    IF octet_length(payload::text) > 7500 THEN
      payload := jsonb_set(payload, '{record}', (SELECT jsonb_object_agg(k, v) FROM jsonb_each(payload -> 'record') e(k, v)
                                                 WHERE k IN ('id', 'campaign_id', 'contact_id')));
    END IF;
    PERFORM pg_notify('outreach_webhooks', jsonb_build_object('function', target, 'payload', payload)::text);
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION public.dispatch_webhook() FROM PUBLIC, anon, authenticated;

CREATE TRIGGER search_tasks_webhook AFTER INSERT ON public.search_tasks
  FOR EACH ROW EXECUTE FUNCTION public.dispatch_webhook('run_search');
CREATE TRIGGER scrape_results_webhook AFTER INSERT ON public.scrape_results
  FOR EACH ROW EXECUTE FUNCTION public.dispatch_webhook('scrape_url');
CREATE TRIGGER campaign_contacts_webhook AFTER INSERT ON public.campaign_contacts
  FOR EACH ROW EXECUTE FUNCTION public.dispatch_webhook('draft_message');
