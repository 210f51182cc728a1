"""unsubscribe_webhook: the link in every email, mail clients' one-click POST (RFC 8058), SES
bounce and complaint notifications through SNS (/sns), and a generic event (/events) for
replies, bounces and complaints reported by any mail provider or inbox watcher."""

import json
from typing import Literal
from uuid import UUID

import flask
import functions_framework
from pydantic import BaseModel, ConfigDict, EmailStr

from shared.core.config import get_settings
from shared.core.http import (
    HttpError,
    handler,
    json_response,
    parse_json,
    read_body,
    read_json,
    require_method,
    require_webhook_secret,
    validate,
)
from shared.core.logs import get_logger
from shared.inbound import pages, unsubscribe

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()

log = get_logger(__name__)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
FORM_MAX_BYTES = 8 * 1024


class EventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    organization_id: UUID
    event: Literal["reply", "bounce", "complaint"]


def html(status: int, body: str) -> flask.Response:
    response = flask.Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"  # older browsers: no clickjacking of the buttons
    return response


def page(request: flask.Request) -> flask.Response:
    require_method(request, "GET", "POST")
    try:
        ctx = unsubscribe.context_for(request.args.get("token", ""))
    except HttpError as exc:
        if exc.status == 400:
            return html(400, pages.invalid_page())
        raise
    lang = pages.language_of(ctx["language_preference"], ctx["default_language"])
    # A business written to through its contact form has no address: its site stands for it.
    masked = unsubscribe.mask(ctx["email"]) if ctx["email"] else ctx["form_site"]
    if request.method == "GET":
        # A GET never changes anything: mail scanners follow links.
        token = request.args["token"]
        return html(200, pages.choice_page(lang, token, ctx["org_name"], ctx["public_name"], masked))

    if request.mimetype not in FORM_TYPES:
        raise HttpError(415, "unsupported_media_type", "send the form as application/x-www-form-urlencoded")
    # The form parser enforces the cap, chunked bodies too. It is lifted again afterwards because
    # functions-framework drains whatever is left of the body after every request.
    request.max_content_length = FORM_MAX_BYTES
    try:
        form = request.form
    finally:
        request.max_content_length = None
    if form.get("List-Unsubscribe") == "One-Click":
        scope, source = "all", "one-click"
    elif form.get("scope") in ("campaign", "all"):
        scope, source = form["scope"], "unsubscribe page"
    else:
        body = pages.choice_page(
            lang, request.args["token"], ctx["org_name"], ctx["public_name"], masked, "choose"
        )
        return html(400, body)
    outcome = unsubscribe.unsubscribe(ctx, scope, source)
    log.info(
        "unsubscribed",
        extra={
            "scope": scope,
            "source": source,
            "changed": outcome.changed,
            "canceled": outcome.canceled,
            "flow_id": str(ctx["flow_id"]),
        },
    )
    return html(200, pages.done_page(lang, scope, ctx["org_name"], ctx["public_name"], outcome.changed))


def sns_notification(request: flask.Request) -> flask.Response:
    # Imported here: cryptography and httpx cost the public page's cold start ~120 ms otherwise.
    from shared.inbound import sns

    require_method(request, "POST")
    message = parse_json(read_body(request))
    if not isinstance(message, dict):
        raise HttpError(400, "invalid_sns_message", "the SNS message is not a JSON object")
    sns.verify(message)
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        sns.confirm_subscription(message)
        return json_response(200, {"confirmed": True})
    if kind != "Notification":
        return json_response(200, {"ignored": kind})
    try:
        notification = json.loads(message["Message"])
    except (ValueError, RecursionError):
        notification = None
    if not isinstance(notification, dict):
        raise HttpError(400, "invalid_sns_message", "the notification is not an SES JSON object")
    if not sns.first_delivery(message["MessageId"]):
        return json_response(200, {"ignored": "duplicate"})
    try:
        return json_response(200, ses_event(notification))
    except Exception:
        sns.forget(message["MessageId"])  # SNS delivers it again; it must not count as seen
        raise


def _object(value) -> dict:
    return value if isinstance(value, dict) else {}


def ses_event(notification: dict) -> dict:
    kind = notification.get("notificationType") or notification.get("eventType")
    if kind == "Bounce" and _object(notification.get("bounce")).get("bounceType") == "Permanent":
        event = "bounce"
    elif kind == "Complaint":
        event = "complaint"
    else:
        return {"ignored": kind or "unknown"}
    mail = _object(notification.get("mail"))
    message_id = _object(mail.get("commonHeaders")).get("messageId")
    headers = mail.get("headers") if isinstance(mail.get("headers"), list) else []
    for header in map(_object, headers):
        if str(header.get("name", "")).lower() == "message-id":
            message_id = header.get("value")
    if not isinstance(message_id, str):
        message_id = None
    contact_id = unsubscribe.contact_by_message_id(message_id) if message_id else None
    if contact_id is None:
        log.warning("SES notification for a message we did not send", extra={"event": event})
        return {"matched": False}
    outcome = unsubscribe.record_event(contact_id, event, f"{event} reported by SES")
    return {"matched": True, "event": event, "changed": outcome.changed, "canceled": outcome.canceled}


def generic_event(request: flask.Request) -> flask.Response:
    require_method(request, "POST")
    require_webhook_secret(request)
    body = validate(EventRequest, read_json(request))
    contact_id = unsubscribe.contact_by_email(body.organization_id, body.email)
    if contact_id is None:
        raise HttpError(404, "unknown_contact", "no contact with this email in this organization")
    outcome = unsubscribe.record_event(contact_id, body.event, f"{body.event} reported by webhook")
    return json_response(200, {"event": body.event, "changed": outcome.changed, "canceled": outcome.canceled})


@functions_framework.http
@handler
def unsubscribe_webhook(request):
    path = request.path.rstrip("/")
    if path.endswith("/sns"):
        return sns_notification(request)
    if path.endswith("/events"):
        return generic_event(request)
    return page(request)
