"""The HTTP layer every function uses: body parsing with a cap, the error format of
docs/DESIGN.md section 3, the webhook secret check and the Supabase webhook payload model."""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable
from typing import Any, Literal

import flask
import werkzeug.exceptions
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.core.config import ConfigError, get_settings
from shared.core.logs import get_logger

log = get_logger(__name__)


class HttpError(Exception):
    """An answer to the caller's mistake: a 4xx with a code, a message and details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> flask.Response:
    response = flask.Response(json.dumps(body, default=str), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(status: int, code: str, message: str, details: Any = None) -> flask.Response:
    return json_response(status, {"error": code, "message": message, "details": details})


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic's errors without the input values (they may be secrets or huge)."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
        for err in exc.errors()
    ]


def validate(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc)
        fields = ", ".join(d["field"] for d in details)
        raise HttpError(400, "invalid_body", f"invalid value for: {fields}", details) from None


def read_body(request: flask.Request, max_bytes: int | None = None) -> bytes:
    cap = max_bytes or get_settings().max_body_bytes
    if request.content_length is not None and request.content_length > cap:
        raise HttpError(413, "body_too_large", f"the body is over {cap} bytes")
    data = request.stream.read(cap + 1)
    if len(data) > cap:
        raise HttpError(413, "body_too_large", f"the body is over {cap} bytes")
    return data


def read_json(request: flask.Request, max_bytes: int | None = None, empty: Any = None) -> Any:
    """The JSON body, capped; an empty body gives `empty` where the endpoint allows one."""
    content_type = (request.mimetype or "").lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise HttpError(415, "unsupported_media_type", "send the body as application/json")
    data = read_body(request, max_bytes)
    if not data.strip():
        if empty is not None:
            return empty
        raise HttpError(400, "invalid_json", "the body is empty; a JSON object is expected")
    return parse_json(data)


def parse_json(data: bytes | str) -> Any:
    """JSON or a 400; nesting too deep for the parser's recursion is refused like any bad JSON,
    and so is a NUL character, which no PostgreSQL text can hold."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise HttpError(400, "invalid_json", "the body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    if not _storable(value):
        raise HttpError(
            400, "invalid_json", "the body holds a NUL character or a lone surrogate (\\u0000, \\ud800)"
        )
    return value


def _storable(value: Any) -> bool:
    """Every string can be stored as PostgreSQL text: no NUL, valid UTF-8 (no lone surrogate)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def require_method(request: flask.Request, *allowed: str) -> None:
    if request.method not in allowed:
        raise HttpError(405, "method_not_allowed", f"use {' or '.join(allowed)}")


def require_webhook_secret(request: flask.Request) -> None:
    secret = get_settings().webhook_secret  # get_settings() makes one locally, requires it deployed
    expected = secret.get_secret_value().encode() if secret else b""
    given = request.headers.get("X-Webhook-Secret", "").encode()
    if not expected or not hmac.compare_digest(given, expected):
        raise HttpError(401, "unauthorized", "missing or wrong X-Webhook-Secret")


class WebhookPayload(BaseModel):
    """A Supabase database webhook, exactly as pg_net posts it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    type: Literal["INSERT", "UPDATE", "DELETE"]
    table: str
    db_schema: str = Field(alias="schema")
    record: dict[str, Any] | None
    old_record: dict[str, Any] | None = None


def cors(request: flask.Request, response: flask.Response) -> flask.Response:
    """CORS for browser apps calling with a user's bearer token (no cookies, no credentials)."""
    allowed = [o.strip() for o in get_settings().cors_allowed_origins.split(",") if o.strip()]
    origin = request.headers.get("Origin")
    if origin and ("*" in allowed or origin in allowed):
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "3600"
        response.headers["Vary"] = "Origin"
    return response


def handler(func: Callable[[flask.Request], flask.Response]) -> Callable[[flask.Request], flask.Response]:
    """Wraps a function's entry point: caller mistakes become 4xx, anything else a bare 500."""

    @functools.wraps(func)
    def wrapper(request: flask.Request) -> flask.Response:
        try:
            return func(request)
        except HttpError as exc:
            log.info("request refused", extra={"status": exc.status, "error": exc.code, "path": request.path})
            return error_response(exc.status, exc.code, exc.message, exc.details)
        except werkzeug.exceptions.HTTPException as exc:
            # Raised by Werkzeug itself, e.g. a form over the request's max_content_length.
            if exc.code and 400 <= exc.code < 500:
                return error_response(
                    exc.code, exc.name.lower().replace(" ", "_"), exc.description or exc.name
                )
            log.exception("unhandled HTTP error", extra={"path": request.path})
            return error_response(500, "internal", "an internal error occurred; it was logged")
        except ConfigError as exc:
            log.critical(str(exc))
            return error_response(500, "misconfigured", "the function is not configured; see its logs")
        except Exception:
            log.exception("unhandled error", extra={"path": request.path})
            return error_response(500, "internal", "an internal error occurred; it was logged")

    return wrapper
