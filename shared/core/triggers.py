"""How a row-driven function is called: one row from a Supabase database webhook, or a drain
of every row still waiting (webhooks get lost), processed concurrently up to a bound."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flask
from pydantic import BaseModel, ConfigDict, Field

from shared.core import db
from shared.core.config import get_settings
from shared.core.http import (
    HttpError,
    WebhookPayload,
    json_response,
    read_json,
    require_method,
    require_webhook_secret,
    validate,
)
from shared.core.logs import get_logger
from shared.core.work import LeaseLost, Stage

log = get_logger(__name__)


class Drain(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drain: bool = Field(description="true")
    limit: int = Field(default=50, ge=1, le=500)


def _key(stage: Stage, record: dict[str, Any] | None) -> dict[str, uuid.UUID]:
    if not isinstance(record, dict):
        raise HttpError(400, "invalid_webhook", "the webhook has no record")
    key = {}
    for column in stage.key:
        try:
            key[column] = uuid.UUID(str(record.get(column)))
        except ValueError:
            raise HttpError(400, "invalid_webhook", f"record.{column} is not a uuid") from None
    return key


def _safely(stage: Stage, process: Callable[[dict], str], row: dict, leases: Leases) -> str:
    """Runs one claimed row, its lease renewed meanwhile; an unexpected error becomes a bounded
    retry with its reason."""
    leases.add(row)
    try:
        return process(row)
    except LeaseLost:
        log.warning("lease lost; results dropped", extra={"table": stage.table})
        return "lost"
    except Exception as exc:
        log.exception("processing failed", extra={"table": stage.table})
        try:
            with db.transaction() as conn:
                return stage.retry(conn, row, f"internal error: {type(exc).__name__}")
        except Exception:
            log.exception("could not record the failure; the lease will expire", extra={"table": stage.table})
            return "error"
    finally:
        leases.discard(row)


class Leases:
    """Renews the lease of every row being worked on, every third of the lease, so a slow row
    (an LLM taking its time, a site dripping bytes) is never claimed a second time."""

    def __init__(self, stage: Stage):
        self.stage = stage
        self.rows: dict[tuple, dict] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._renew_until_stopped, daemon=True, name="lease-renewal")

    def __enter__(self) -> Leases:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def add(self, row: dict) -> None:
        with self.lock:
            self.rows[tuple(self.stage.key_of(row).values())] = row

    def discard(self, row: dict) -> None:
        with self.lock:
            self.rows.pop(tuple(self.stage.key_of(row).values()), None)

    def _renew_until_stopped(self) -> None:
        while not self.stopped.wait(get_settings().work_lease_seconds / 3):
            with self.lock:
                rows = list(self.rows.values())
            if not rows:
                continue
            try:
                with db.transaction() as conn:
                    for row in rows:
                        self.stage.renew(conn, row)
            except Exception:
                log.exception("could not renew leases; will try again", extra={"table": self.stage.table})


def serve(request: flask.Request, stage: Stage, process: Callable[[dict], str]) -> flask.Response:
    require_method(request, "POST")
    require_webhook_secret(request)
    body = read_json(request)
    if isinstance(body, dict) and "drain" in body:
        drain = validate(Drain, body)
        if not drain.drain:
            raise HttpError(400, "invalid_body", "drain must be true")
        return json_response(200, run_drain(stage, process, drain.limit))
    payload = validate(WebhookPayload, body)
    if payload.table != stage.table or payload.db_schema != "public":
        raise HttpError(400, "wrong_table", f"this function takes webhooks of public.{stage.table} only")
    if payload.type != "INSERT":
        return json_response(200, {"processed": 0, "ignored": payload.type})
    key = _key(stage, payload.record)
    with db.transaction() as conn:
        row = stage.claim_one(conn, key)
    if row is None:
        # Already done, in progress elsewhere, waiting for its retry time, or not ours.
        return json_response(200, {"processed": 0, "skipped": 1})
    with Leases(stage) as leases:
        outcome = _safely(stage, process, row, leases)
    return json_response(200, {"processed": 1, outcome: 1})


def run_drain(stage: Stage, process: Callable[[dict], str], limit: int) -> dict[str, int]:
    """Up to `limit` waiting rows, `drain_concurrency` at a time. Each worker claims its next row
    only when it is free, and none is claimed after the drain's time budget, so a claim is
    never left waiting while its lease runs."""
    settings = get_settings()
    with db.transaction() as conn:
        stage.give_up(conn)
    deadline = time.monotonic() + settings.drain_budget_seconds
    taken = 0
    lock = threading.Lock()

    def take() -> bool:
        nonlocal taken
        with lock:
            if taken >= limit or time.monotonic() >= deadline:
                return False
            taken += 1
            return True

    def worker(leases: Leases) -> Counter[str]:
        counts: Counter[str] = Counter()
        while take():
            with db.transaction() as conn:
                row = stage.claim_next(conn)
            if row is None:
                break
            counts["processed"] += 1
            counts[_safely(stage, process, row, leases)] += 1
        return counts

    total: Counter[str] = Counter()
    workers = min(settings.drain_concurrency, limit)
    with Leases(stage) as leases, ThreadPoolExecutor(max_workers=workers) as pool:
        for counts in pool.map(lambda _: worker(leases), range(workers)):
            total.update(counts)
    return {"processed": total.pop("processed", 0), **total}
