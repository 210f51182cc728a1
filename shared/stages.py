"""How a row-driven function is called: one row from a Supabase database webhook, or a drain
of every row still waiting (webhooks get lost), processed concurrently up to a bound."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flask
from pydantic import BaseModel, ConfigDict, Field

from shared import db
from shared.config import get_settings
from shared.http import (
    HttpError,
    WebhookPayload,
    json_response,
    read_json,
    require_method,
    require_webhook_secret,
    validate,
)
from shared.logs import get_logger
from shared.work import Stage

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


def _safely(stage: Stage, process: Callable[[dict], str], row: dict) -> str:
    """Runs one claimed row; an unexpected error becomes a bounded retry with its reason."""
    try:
        return process(row)
    except Exception as exc:
        log.exception("processing failed", extra={"table": stage.table})
        try:
            with db.transaction() as conn:
                return stage.retry(conn, row, f"internal error: {type(exc).__name__}")
        except Exception:
            log.exception("could not record the failure; the lease will expire", extra={"table": stage.table})
            return "error"


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
    outcome = _safely(stage, process, row)
    return json_response(200, {"processed": 1, outcome: 1})


def run_drain(stage: Stage, process: Callable[[dict], str], limit: int) -> dict[str, int]:
    with db.transaction() as conn:
        rows = stage.claim_batch(conn, limit)
    counts: Counter[str] = Counter()
    if rows:
        workers = min(get_settings().drain_concurrency, len(rows))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            counts.update(pool.map(lambda row: _safely(stage, process, row), rows))
    return {"processed": len(rows), **counts}
