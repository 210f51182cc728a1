"""draft_message: the OpenAI-compatible client, the template drafter and the checks every draft passes."""
