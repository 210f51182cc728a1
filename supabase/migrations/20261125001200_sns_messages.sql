-- SNS MessageIds already handled: a notification delivered again (SNS retries, or an attacker
-- replays a captured one within its hour) changes nothing. Only the functions use it.
CREATE TABLE public.sns_messages (
  message_id text PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sns_messages_received_at_idx ON public.sns_messages (received_at);
ALTER TABLE public.sns_messages ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.sns_messages FROM PUBLIC, anon, authenticated;
GRANT ALL ON public.sns_messages TO service_role;
