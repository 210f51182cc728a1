-- campaign_stats' rollup (migration 20261204000300, docs/DESIGN.md "Campaign stats").

-- name: refresh-campaign-stats
-- Tally the rows changed since the watermark and move it; returns how many rows it read.
SELECT private.refresh_campaign_stats() AS rows
