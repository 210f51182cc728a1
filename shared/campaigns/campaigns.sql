-- Campaigns and their search tasks.

-- name: insert-campaign
INSERT INTO campaigns (organization_id, campaign_name, instructions, tone, word_limit, ai_settings,
                       default_language, created_by)
VALUES (%(organization_id)s, %(campaign_name)s, %(instructions)s, %(tone)s, %(word_limit)s,
        %(ai_settings)s, %(default_language)s, %(created_by)s)
RETURNING *;

-- name: insert-search-task
INSERT INTO search_tasks (campaign_id, search_query, language)
VALUES (%(campaign_id)s, %(search_query)s, %(language)s)
RETURNING *;

