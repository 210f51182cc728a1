-- A refusal by the receiving server's policy is the sender's fault, not the address's: an
-- enhanced status 5.7.x at SMTP time (our sending IP banned, such as Microsoft's 5.7.606; our
-- domain's authentication failing, 5.7.515 or Gmail's 5.7.26; our content refused). send_due
-- fails the message with refused_by_policy set and leaves the contact alone (docs/RELIABILITY.md,
-- promise 9). A run of such refusals pauses the mailbox, as a run of hard bounces does: the
-- same window (7 days), the same minimum (20 messages) and the same default rate (5%).
--
-- The trigger fires only when a failure sets the mark: a message sent never reaches it.

ALTER TABLE public.outreach_flows ADD COLUMN refused_by_policy boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN public.outreach_flows.refused_by_policy IS
  'Failed because the receiving server refused the sender by policy (SMTP enhanced status 5.7.x), not the address.';

-- The mailbox's attempts are private.recent_attempts' (sent, being sent, hard bounces), plus the
-- refusals themselves, which that function does not count.
CREATE FUNCTION private.trip_refusal_breaker() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  attempts bigint := (SELECT r.attempts FROM private.recent_attempts(NULL, NEW.mailbox_id) r);
  refused bigint := (
    SELECT count(*) FROM public.outreach_flows f
    WHERE f.mailbox_id = NEW.mailbox_id AND f.status = 'failed' AND f.refused_by_policy
      AND coalesce(f.sent_at, f.scheduled_send_time) > now() - interval '7 days');
BEGIN
  attempts := attempts + refused;
  IF attempts >= 20 AND refused::numeric / attempts >= 0.05 THEN
    UPDATE public.mailboxes
    SET active = false,
        paused_reason = format('paused by the circuit breaker: %s messages refused by the receiving servers'' policy'
                               ' (5.7.x: the sending IP, the domain''s authentication or the content) in %s messages'
                               ' of the last 7 days (limit 5%%)', refused, attempts)
    WHERE id = NEW.mailbox_id AND active;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER outreach_flows_trip_refusal_breaker
  AFTER UPDATE OF refused_by_policy ON public.outreach_flows
  FOR EACH ROW WHEN (NEW.refused_by_policy AND NOT OLD.refused_by_policy AND NEW.mailbox_id IS NOT NULL)
  EXECUTE FUNCTION private.trip_refusal_breaker();
REVOKE ALL ON FUNCTION private.trip_refusal_breaker() FROM PUBLIC;
