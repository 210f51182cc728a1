"""The unsubscribe page behind the link in every email, and mail clients' one-click POST
(RFC 8058). A GET only shows the choice; a POST makes it."""

from __future__ import annotations

import flask

from shared.core.http import HttpError, require_method
from shared.core.logs import get_logger
from shared.inbound import pages, unsubscribe

log = get_logger(__name__)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
FORM_MAX_BYTES = 8 * 1024


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
    lang = pages.language_of(ctx.language_preference, ctx.default_language)
    # A business written to through its contact form has no address: its site stands for it
    # (contacts_reachable: a contact has one or the other).
    masked = unsubscribe.mask(ctx.email) if ctx.email else (ctx.form_site or "")
    if request.method == "GET":
        # A GET never changes anything: mail scanners follow links.
        token = request.args["token"]
        return html(200, pages.choice_page(lang, token, ctx.org_name, ctx.public_name, masked))

    if request.mimetype not in FORM_TYPES:
        raise HttpError(415, "unsupported_media_type", "send the form as application/x-www-form-urlencoded")
    # The form parser enforces the cap, chunked bodies too. It is lifted again afterwards because
    # functions-framework drains whatever is left of the body after every request.
    request.max_content_length = FORM_MAX_BYTES
    try:
        form = request.form
    finally:
        request.max_content_length = None
    scope: unsubscribe.Scope
    if form.get("List-Unsubscribe") == "One-Click":
        scope, source = "all", "one-click"
    elif form.get("scope") == "campaign":
        scope, source = "campaign", "unsubscribe page"
    elif form.get("scope") == "all":
        scope, source = "all", "unsubscribe page"
    else:
        body = pages.choice_page(lang, request.args["token"], ctx.org_name, ctx.public_name, masked, "choose")
        return html(400, body)
    outcome = unsubscribe.unsubscribe(ctx, scope, source)
    log.info(
        "unsubscribed",
        extra={
            "scope": scope,
            "source": source,
            "changed": outcome.changed,
            "canceled": outcome.canceled,
            "flow_id": str(ctx.flow_id),
        },
    )
    return html(200, pages.done_page(lang, scope, ctx.org_name, ctx.public_name, outcome.changed))
