-- What discovery keeps from a prospect's site for the drafting stage: the page's metadata.
-- raw_content (from the seed) holds the bounded main text.
ALTER TABLE public.scrape_results
  ADD COLUMN page_title text,
  ADD COLUMN page_description text,
  ADD COLUMN site_name text,
  ADD COLUMN pages_fetched int NOT NULL DEFAULT 0 CHECK (pages_fetched >= 0);
