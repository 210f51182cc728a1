"""campaign_stats' rollup, refreshed by the scheduler (after each sync_mailboxes run).

The view is exact whenever the refresh runs: it reads the rollup plus the rows changed since
(docs/DESIGN.md, "Campaign stats"). Refreshing often only keeps that second part small, so a
failed refresh is logged and left to the next run, never an error of the caller.
"""

from __future__ import annotations

import psycopg

from shared.core import db
from shared.core.logs import get_logger

log = get_logger(__name__)


def refresh() -> int | None:
    """Tally the rows changed since the last refresh; the number read, or None if it failed."""
    try:
        with db.transaction() as conn:
            rows: int = db.fetch_row(conn, "refresh-campaign-stats")["rows"]
    except psycopg.Error as exc:
        log.warning("campaign stats not refreshed", extra={"error": type(exc).__name__})
        return None
    log.info("campaign stats refreshed", extra={"rows": rows})
    return rows
