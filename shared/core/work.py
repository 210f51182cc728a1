"""The work queue of the row-driven stages (promise 3, "Nothing stuck").

A row is claimed by its webhook, or by the drain when its webhook was lost; a claim takes a
lease, so a worker that dies only delays the row; failures retry with backoff a bounded
number of times and then record their reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.rows import dict_row

from shared.core.config import get_settings
from shared.core.queries import sql


@dataclass(frozen=True)
class Stage:
    table: str
    key: tuple[str, ...]
    busy: str

    def _compose(self, name: str) -> pgsql.Composed:
        key = pgsql.SQL(", ").join(pgsql.Identifier(k) for k in self.key)
        return pgsql.SQL(sql(name)).format(
            table=pgsql.Identifier(self.table),
            key=key,
            key_params=pgsql.SQL(", ").join(pgsql.Placeholder(k) for k in self.key),
            t_key=pgsql.SQL(", ").join(pgsql.Identifier("t", k) for k in self.key),
            w_key=pgsql.SQL(", ").join(pgsql.Identifier("w", k) for k in self.key),
            busy=pgsql.Literal(self.busy),
        )

    def _run(self, conn: psycopg.Connection, name: str, **params: Any) -> list[dict]:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(self._compose(name), params)
            return cur.fetchall()

    def claim_one(self, conn: psycopg.Connection, key: dict) -> dict | None:
        s = get_settings()
        rows = self._run(
            conn, "work-claim-one", lease=s.work_lease_seconds, max_attempts=s.work_max_attempts, **key
        )
        return rows[0] if rows else None

    def give_up(self, conn: psycopg.Connection) -> int:
        return len(self._run(conn, "work-give-up", max_attempts=get_settings().work_max_attempts))

    def claim_next(self, conn: psycopg.Connection) -> dict | None:
        s = get_settings()
        rows = self._run(
            conn,
            "work-claim-next",
            grace=s.drain_grace_seconds,
            lease=s.work_lease_seconds,
            max_attempts=s.work_max_attempts,
        )
        return rows[0] if rows else None

    def renew(self, conn: psycopg.Connection, row: dict) -> bool:
        lease = get_settings().work_lease_seconds
        return bool(self._run(conn, "work-renew", lease=lease, **self.claim_of(row)))

    def finish(self, conn: psycopg.Connection, row: dict, status: str, reason: str | None = None) -> None:
        """Records the row's outcome; raises LeaseLost, rolling back the caller's transaction
        (and the results written in it), when the row is no longer this worker's claim."""
        if not self._run(conn, "work-finish", status=status, reason=reason, **self.claim_of(row)):
            raise LeaseLost(f"{self.table}: the lease was lost; another claim owns the row")

    def retry(self, conn: psycopg.Connection, row: dict, reason: str) -> str:
        s = get_settings()
        delay = min(s.work_retry_base_seconds * 2 ** max(row["attempts"] - 1, 0), 3600)
        rows = self._run(
            conn,
            "work-retry",
            reason=reason[:500],
            delay=int(delay * random.uniform(0.8, 1.2)),
            max_attempts=s.work_max_attempts,
            **self.claim_of(row),
        )
        return rows[0]["status"] if rows else "lost"

    def key_of(self, row: dict) -> dict:
        return {k: row[k] for k in self.key}

    def claim_of(self, row: dict) -> dict:
        """The row's key and the attempt number its claim gave it."""
        return {**self.key_of(row), "attempts": row["attempts"]}


class LeaseLost(Exception):
    """The row's lease ran out and another worker claimed it: this worker's results are dropped."""


SEARCH = Stage("search_tasks", ("id",), "in_progress")
SCRAPE = Stage("scrape_results", ("id",), "scraping")
DRAFT = Stage("campaign_contacts", ("campaign_id", "contact_id"), "drafting")
