"""A page's main text and metadata, for the drafting stage."""

from __future__ import annotations

SUMMARY_HTML_MAX = 512 * 1024


def page_summary(html: str, url: str, max_chars: int = 4000) -> dict:
    """Main text and metadata (trafilatura), bounded, for the drafting stage.

    trafilatura reads the first 512 KB of the page: a business page's main text lies well
    within it, and trafilatura's time grows faster than the page on hostile input. Contacts
    are extracted from the whole page, footers included. The publication date is not used, so
    htmldate's search of the whole text for one is turned off (on a large page it took half of
    trafilatura's time).
    """
    import trafilatura  # only scrape_url loads it: it is heavy for a cold start

    html = html[:SUMMARY_HTML_MAX]
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, favor_precision=True
    )
    meta = trafilatura.extract_metadata(
        html, default_url=url, date_config={"extensive_search": False, "original_date": False}
    )
    return {
        "title": meta.title or None,
        "description": meta.description or None,
        "site_name": meta.sitename or None,
        "text": (text or "")[:max_chars],
    }


NO_SUMMARY = {"title": None, "description": None, "site_name": None, "text": ""}
