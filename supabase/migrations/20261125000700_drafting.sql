-- What drafting records per campaign contact: which drafter wrote the sequence and the tokens
-- it used, so cost can be reported per campaign.
ALTER TABLE public.campaign_contacts
  ADD COLUMN drafted_with text,
  ADD COLUMN prompt_tokens int NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
  ADD COLUMN completion_tokens int NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0);
