"""Finding prospects: search providers and run_search (query to sites), the safe fetcher, contact
extraction and scrape_url (site to contacts)."""
