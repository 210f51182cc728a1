"""run_search: from a campaign's search query to the prospect sites worth scraping."""

from __future__ import annotations

from shared.core import db
from shared.core.config import get_settings
from shared.core.work import SEARCH
from shared.discovery import prospects, providers


def run_search(row: dict) -> str:
    """One claimed search task: query the provider, store one scrape result per site."""
    with db.transaction() as conn:
        task = db.fetch_row(conn, "get-task-context", id=row["id"])
    if task["campaign_status"] == "completed":
        with db.transaction() as conn:
            SEARCH.finish(conn, row, "completed", "skipped: the campaign is completed")
        return "skipped"
    try:
        results = providers.from_settings().search(
            task["search_query"], task["language"], get_settings().search_results_per_task
        )
    except providers.SearchError as exc:
        with db.transaction() as conn:
            if exc.retryable:
                return SEARCH.retry(conn, row, str(exc))
            SEARCH.finish(conn, row, "failed", f"failed: {exc}")
        return "failed"
    sites = prospects.prospect_sites([r.url for r in results])
    with db.transaction() as conn:
        added = sum(
            1
            for site in sites
            if db.fetch_one(conn, "insert-scrape-result", search_task_id=row["id"], website_url=site)
        )
        SEARCH.finish(conn, row, "completed", f"{len(results)} results, {len(sites)} sites, {added} new")
    return "completed"
