-- Campaign progress, for the local run's progress line and summary.

-- name: campaign-stats
SELECT * FROM campaign_stats WHERE campaign_id = %(campaign_id)s;

-- name: sending-soon
-- Messages being sent or due within ten minutes (spacing and retries defer by seconds or minutes;
-- follow-ups wait days).
SELECT count(*) AS n FROM outreach_flows
WHERE campaign_id = %(campaign_id)s
  AND (status = 'sending' OR (status = 'scheduled' AND scheduled_send_time <= now() + interval '10 minutes'));
