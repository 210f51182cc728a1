-- Replies understood and brought to a person: the intent of each reply read from a mailbox, the
-- next step it led to (a reply draft, a follow-up draft, a referred contact), reply drafts that
-- go out threaded once a person approves them, a negative-reply breaker, and counts by intent.

-- 1. The intent of each message read back, with how sure the reading is and the words it rests
-- on. needs_review: the reading was not sure enough (intent 'other'); a person should look.
ALTER TABLE public.inbound_messages
  ADD COLUMN intent text CHECK (intent IN ('interested', 'meeting_request', 'question', 'not_now', 'not_interested',
                                           'wrong_person', 'referral', 'unsubscribe', 'auto_reply', 'bounce', 'other')),
  ADD COLUMN intent_confidence real CHECK (intent_confidence BETWEEN 0 AND 1),
  ADD COLUMN intent_evidence text CHECK (length(intent_evidence) <= 300),
  ADD COLUMN intent_by text CHECK (length(intent_by) <= 120),  -- 'rules' or 'llm:<model>'
  ADD COLUMN needs_review boolean NOT NULL DEFAULT false,
  ADD COLUMN follow_up_on date,                                -- the day a not_now reply named
  -- What the reply led to: the draft waiting for approval, the contact it referred us to.
  ADD COLUMN next_step text CHECK (length(next_step) <= 300),
  ADD COLUMN next_flow_id uuid REFERENCES public.outreach_flows (id) ON DELETE SET NULL,
  ADD COLUMN referred_contact_id uuid REFERENCES public.contacts (id) ON DELETE SET NULL;
CREATE INDEX inbound_messages_campaign_intent_idx ON public.inbound_messages (campaign_id, intent)
  WHERE intent IS NOT NULL;
-- Deleting a message or a contact finds what points at it without a scan.
CREATE INDEX inbound_messages_next_flow_idx ON public.inbound_messages (next_flow_id) WHERE next_flow_id IS NOT NULL;
CREATE INDEX inbound_messages_referred_contact_idx ON public.inbound_messages (referred_contact_id)
  WHERE referred_contact_id IS NOT NULL;

-- 2. Reply drafts: an outreach_flows row of type 'reply' answers one of the prospect's messages.
-- It is sent from the sequence's mailbox with In-Reply-To and References naming that message,
-- once a person approves it (draft -> scheduled); the earlier steps of the sequence, canceled
-- by the reply itself, do not hold it back.
ALTER TABLE public.outreach_flows DROP CONSTRAINT outreach_flows_flow_type_check;
ALTER TABLE public.outreach_flows
  ADD CONSTRAINT outreach_flows_flow_type_check CHECK (flow_type IN ('email', 'form_submission', 'reply')),
  ADD COLUMN in_reply_to text CHECK (length(in_reply_to) <= 300),
  ADD COLUMN reply_references text CHECK (length(reply_references) <= 4000);

-- The check before sending a reply: everything that stops a sequence stops it too, except the
-- contact's own reply, which it answers.
CREATE FUNCTION public.suppression_reason(contact uuid, campaign uuid, flow_type text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  everything boolean;
  reached text;
BEGIN
  IF flow_type IS DISTINCT FROM 'reply' THEN
    RETURN public.suppression_reason(contact, campaign);
  END IF;
  SELECT ct.unsubscribe_requested, ct.reached_status INTO everything, reached
  FROM public.contacts ct WHERE ct.id = contact;
  IF NOT FOUND OR reached IS DISTINCT FROM 'responded' THEN
    RETURN public.suppression_reason(contact, campaign);
  ELSIF everything THEN
    RETURN 'the contact unsubscribed from everything the organization sends';
  ELSIF EXISTS (SELECT 1 FROM public.campaign_unsubscribes u WHERE u.contact_id = contact AND u.campaign_id = campaign) THEN
    RETURN 'the contact unsubscribed from this campaign';
  END IF;
  RETURN NULL;
END
$$;
-- Like every function since migration …1300: run by the service's own role, granted to nobody.
REVOKE ALL ON FUNCTION public.suppression_reason(uuid, uuid, text) FROM PUBLIC, anon, authenticated, service_role;

-- 3. ai_settings.breaker.negative_reply_rate (0 to 1, default 0.1): the share of a campaign's
-- first messages answered "not interested" or "unsubscribe" (replies read from the mailboxes,
-- and the campaign's unsubscribes) at which the campaign pauses, once breaker.min_sent (default
-- 20) first messages went out.
ALTER FUNCTION private.campaign_settings_problem(jsonb) RENAME TO campaign_settings_problem_before_reply_breaker;
CREATE FUNCTION private.campaign_settings_problem(settings jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = '' AS $$
DECLARE
  breaker jsonb := settings -> 'breaker';
BEGIN
  IF jsonb_typeof(settings) = 'object' AND jsonb_typeof(breaker) = 'object' AND breaker ? 'negative_reply_rate' THEN
    IF jsonb_typeof(breaker -> 'negative_reply_rate') IS DISTINCT FROM 'number'
       OR (breaker ->> 'negative_reply_rate')::numeric NOT BETWEEN 0 AND 1 THEN
      RETURN 'ai_settings.breaker.negative_reply_rate is a number from 0 to 1';
    END IF;
    RETURN private.campaign_settings_problem_before_reply_breaker(
      jsonb_set(settings, '{breaker}', breaker - 'negative_reply_rate'));
  END IF;
  RETURN private.campaign_settings_problem_before_reply_breaker(settings);
END
$$;
REVOKE ALL ON FUNCTION private.campaign_settings_problem(jsonb),
  private.campaign_settings_problem_before_reply_breaker(jsonb) FROM PUBLIC, anon, authenticated, service_role;

-- The negative-reply breaker, run as each negative reply or campaign unsubscribe is recorded.
CREATE FUNCTION private.negative_reply_reason(campaign uuid, limits jsonb) RETURNS text
LANGUAGE sql STABLE SET search_path = '' AS $$
  WITH firsts AS (
    SELECT count(*) AS n FROM public.outreach_flows f
    WHERE f.campaign_id = campaign AND f.sequence_order = 0 AND f.flow_type <> 'reply'
      AND (f.status = 'sent' OR (f.status = 'sending' AND f.message_id IS NOT NULL))
  ), negatives AS (
    SELECT count(*) AS n FROM (
      SELECT m.contact_id FROM public.inbound_messages m
      WHERE m.campaign_id = campaign AND m.contact_id IS NOT NULL
        AND (m.intent IN ('not_interested', 'unsubscribe') OR (m.kind = 'stop_request' AND m.intent IS NULL))
      UNION
      SELECT u.contact_id FROM public.campaign_unsubscribes u WHERE u.campaign_id = campaign) x
  )
  SELECT format('paused by the negative-reply breaker: %s not-interested replies and unsubscribes for %s first messages (limit %s%%)',
                negatives.n, firsts.n, round(coalesce((limits ->> 'negative_reply_rate')::numeric, 0.1) * 100, 2))
  FROM firsts, negatives
  WHERE firsts.n >= coalesce((limits ->> 'min_sent')::integer, 20)
    AND negatives.n::numeric / firsts.n >= coalesce((limits ->> 'negative_reply_rate')::numeric, 0.1)
$$;

CREATE FUNCTION private.trip_negative_reply_breaker() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  reason text;
  limits jsonb;
BEGIN
  SELECT c.ai_settings -> 'breaker' INTO limits FROM public.campaigns c
  WHERE c.id = NEW.campaign_id AND c.status = 'active';
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  reason := private.negative_reply_reason(NEW.campaign_id, limits);
  IF reason IS NOT NULL THEN
    UPDATE public.campaigns SET status = 'paused', paused_reason = reason WHERE id = NEW.campaign_id AND status = 'active';
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION private.negative_reply_reason(uuid, jsonb), private.trip_negative_reply_breaker()
  FROM PUBLIC, anon, authenticated, service_role;
CREATE TRIGGER inbound_messages_trip_negative_reply_breaker
  AFTER INSERT OR UPDATE OF intent ON public.inbound_messages
  FOR EACH ROW WHEN (NEW.campaign_id IS NOT NULL
                     AND (NEW.intent IN ('not_interested', 'unsubscribe') OR NEW.kind = 'stop_request'))
  EXECUTE FUNCTION private.trip_negative_reply_breaker();
CREATE TRIGGER campaign_unsubscribes_trip_negative_reply_breaker
  AFTER INSERT ON public.campaign_unsubscribes
  FOR EACH ROW EXECUTE FUNCTION private.trip_negative_reply_breaker();

-- 4. Replies by intent per campaign, and the reply rate counting people only: contacts who
-- answered in their own words (not an automatic reply or a delivery report) per first message
-- sent. Members read their organizations' rows (security_invoker: row level security applies).
CREATE VIEW public.campaign_reply_stats WITH (security_invoker = true) AS
SELECT
  c.id AS campaign_id,
  c.organization_id,
  coalesce(m.interested, 0) AS interested,
  coalesce(m.meeting_request, 0) AS meeting_request,
  coalesce(m.question, 0) AS question,
  coalesce(m.not_now, 0) AS not_now,
  coalesce(m.not_interested, 0) AS not_interested,
  coalesce(m.wrong_person, 0) AS wrong_person,
  coalesce(m.referral, 0) AS referral,
  coalesce(m.unsubscribe, 0) AS unsubscribe,
  coalesce(m.auto_reply, 0) AS auto_reply,
  coalesce(m.bounce, 0) AS bounce,
  coalesce(m.other, 0) AS other,
  coalesce(m.needs_review, 0) AS needs_review,
  coalesce(m.human_replies, 0) AS human_replies,
  coalesce(f.first_messages_sent, 0) AS first_messages_sent,
  CASE WHEN coalesce(f.first_messages_sent, 0) > 0
       THEN round(coalesce(m.human_replies, 0)::numeric / f.first_messages_sent, 4) END AS reply_rate
FROM public.campaigns c
LEFT JOIN LATERAL (
  SELECT count(*) FILTER (WHERE x.intent = 'interested') AS interested,
         count(*) FILTER (WHERE x.intent = 'meeting_request') AS meeting_request,
         count(*) FILTER (WHERE x.intent = 'question') AS question,
         count(*) FILTER (WHERE x.intent = 'not_now') AS not_now,
         count(*) FILTER (WHERE x.intent = 'not_interested') AS not_interested,
         count(*) FILTER (WHERE x.intent = 'wrong_person') AS wrong_person,
         count(*) FILTER (WHERE x.intent = 'referral') AS referral,
         count(*) FILTER (WHERE x.intent = 'unsubscribe') AS unsubscribe,
         count(*) FILTER (WHERE x.intent = 'auto_reply' OR (x.intent IS NULL AND x.kind = 'auto_reply')) AS auto_reply,
         count(*) FILTER (WHERE x.intent = 'bounce' OR (x.intent IS NULL AND x.kind = 'bounce')) AS bounce,
         count(*) FILTER (WHERE x.intent = 'other') AS other,
         count(*) FILTER (WHERE x.needs_review) AS needs_review,
         count(DISTINCT x.contact_id) FILTER (
           WHERE x.kind IN ('reply', 'stop_request') AND x.intent IS DISTINCT FROM 'auto_reply'
             AND x.intent IS DISTINCT FROM 'bounce') AS human_replies
  FROM public.inbound_messages x WHERE x.campaign_id = c.id
) m ON true
LEFT JOIN LATERAL (
  SELECT count(*) AS first_messages_sent FROM public.outreach_flows o
  WHERE o.campaign_id = c.id AND o.sequence_order = 0 AND o.flow_type <> 'reply' AND o.status = 'sent'
) f ON true;
REVOKE ALL ON public.campaign_reply_stats FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.campaign_reply_stats TO authenticated;
GRANT ALL ON public.campaign_reply_stats TO service_role;
