"""Campaigns: the create_campaign request and its rules, and the campaign settings (ai_settings)
that the database checks with the same rules."""
