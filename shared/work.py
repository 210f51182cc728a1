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

from shared.config import get_settings
from shared.queries import sql


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

    def claim_one(self, conn, key: dict) -> dict | None:
        s = get_settings()
        rows = self._run(
            conn, "work-claim-one", lease=s.work_lease_seconds, max_attempts=s.work_max_attempts, **key
        )
        return rows[0] if rows else None

    def claim_batch(self, conn, limit: int) -> list[dict]:
        s = get_settings()
        self._run(conn, "work-give-up", max_attempts=s.work_max_attempts)
        return self._run(
            conn,
            "work-claim-batch",
            limit=limit,
            grace=s.drain_grace_seconds,
            lease=s.work_lease_seconds,
            max_attempts=s.work_max_attempts,
        )

    def finish(self, conn, key: dict, status: str, reason: str | None = None) -> bool:
        return bool(self._run(conn, "work-finish", status=status, reason=reason, **key))

    def retry(self, conn, row: dict, reason: str) -> str:
        s = get_settings()
        delay = min(s.work_retry_base_seconds * 2 ** max(row["attempts"] - 1, 0), 3600)
        rows = self._run(
            conn,
            "work-retry",
            reason=reason[:500],
            delay=int(delay * random.uniform(0.8, 1.2)),
            max_attempts=s.work_max_attempts,
            **self.key_of(row),
        )
        return rows[0]["status"] if rows else "lost"

    def key_of(self, row: dict) -> dict:
        return {k: row[k] for k in self.key}


SEARCH = Stage("search_tasks", ("id",), "in_progress")
SCRAPE = Stage("scrape_results", ("id",), "scraping")
DRAFT = Stage("campaign_contacts", ("campaign_id", "contact_id"), "drafting")
