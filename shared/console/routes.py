"""The console's routes: GET / and its static files, and the JSON endpoints the page reads.

Every endpoint verifies the caller's Supabase JWT and runs its statements as them
(members.transaction); the page hides admin actions from members, and the database refuses them.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import flask
import psycopg
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from shared.console import members
from shared.console import models as m
from shared.core import auth
from shared.core.config import get_settings
from shared.core.db import execute, fetch_all, fetch_one, fetch_row
from shared.core.http import HttpError, json_response, read_json, validate
from shared.core.logs import get_logger
from shared.inbound.intent_names import INTENTS

log = get_logger(__name__)
STATIC = Path(__file__).parent / "static"
# The files the page may load, fixed when the module loads: a request names one of these or
# gets a 404, so no path ever reaches the file system.
FILES = {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()}
PAGE_SIZE = 50

ROUTES = Map(
    [
        Rule("/", endpoint="page", methods=["GET"]),
        Rule("/assets/<path:name>", endpoint="static", methods=["GET"]),
        Rule("/api/config", endpoint="config", methods=["GET"]),
        Rule("/api/me", endpoint="me", methods=["GET"]),
        Rule("/api/campaigns", endpoint="campaigns", methods=["GET"]),
        Rule("/api/campaigns/<uuid:campaign>", endpoint="campaign", methods=["GET"]),
        Rule("/api/campaigns/<uuid:campaign>/figures", endpoint="campaign_figures", methods=["GET"]),
        Rule("/api/campaigns/<uuid:campaign>/status", endpoint="campaign_status", methods=["POST"]),
        Rule("/api/drafts", endpoint="drafts", methods=["GET"]),
        Rule("/api/drafts/decide", endpoint="drafts_decide", methods=["POST"]),
        Rule("/api/drafts/<uuid:draft>", endpoint="draft_edit", methods=["POST"]),
        Rule("/api/inbox", endpoint="inbox", methods=["GET"]),
        Rule("/api/inbox/<uuid:message>/thread", endpoint="thread", methods=["GET"]),
        Rule("/api/quarantine/<uuid:item>/read-again", endpoint="read_again", methods=["POST"]),
        Rule("/api/mailboxes", endpoint="mailboxes", methods=["GET"]),
        Rule("/api/mailboxes", endpoint="mailbox_add", methods=["POST"]),
        Rule("/api/mailboxes/complaints", endpoint="complaint_rates", methods=["GET"]),
        Rule("/api/mailboxes/<uuid:mailbox>/active", endpoint="mailbox_active", methods=["POST"]),
        Rule("/api/contacts", endpoint="contacts", methods=["GET"]),
        Rule("/api/contacts/<uuid:contact>", endpoint="contact", methods=["GET"]),
        Rule("/api/contacts/<uuid:contact>/unsubscribe", endpoint="contact_unsubscribe", methods=["POST"]),
    ],
    strict_slashes=False,
)


def security_headers(response: flask.Response) -> flask.Response:
    """No inline script or style, nothing from another host (but Supabase Auth, which the page
    calls to sign in), never framed. Bearer tokens only: there is no cookie to protect."""
    auth_host = get_settings().supabase_url or ""
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src 'self' {auth_host}".rstrip()
        + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def dispatch(request: flask.Request) -> flask.Response:
    adapter = ROUTES.bind("console", path_info=request.path)
    try:
        endpoint, args = adapter.match(method=request.method)
    except MethodNotAllowed as exc:
        raise HttpError(405, "method_not_allowed", f"use {' or '.join(exc.valid_methods or [])}") from None
    except NotFound:
        raise HttpError(404, "not_found", "no such page or endpoint") from None
    if endpoint == "page":
        return static_file("index.html")
    if endpoint == "static":
        return static_file(args["name"])
    if endpoint == "config":
        settings = get_settings()
        return json_response(
            200, {"supabase_url": settings.supabase_url, "supabase_anon_key": settings.supabase_anon_key}
        )
    user = auth.authenticate(request)
    return ENDPOINTS[endpoint](request, user, **args)


def static_file(name: str) -> flask.Response:
    path = FILES.get(name)
    if path is None:
        raise HttpError(404, "not_found", "no such file")
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        mimetype = "text/javascript"
    response = flask.Response(path.read_bytes(), status=200, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    return response


def org_arg(request: flask.Request) -> UUID:
    return m.uuid_arg(request.args.get("org"), "org")


def limit_arg(request: flask.Request) -> int:
    try:
        return max(1, min(int(request.args.get("limit", PAGE_SIZE)), 200))
    except ValueError:
        raise HttpError(400, "invalid_argument", "limit must be a number") from None


def refused_or_missing(conn: psycopg.Connection, visible_statement: str, **params: Any) -> HttpError:
    """An UPDATE under row level security that changed nothing: the row is not the caller's to
    change (403) when they can see it, else it is not there for them (404)."""
    if fetch_one(conn, visible_statement, **params) is not None:
        return HttpError(
            403, "forbidden", "refused by the database: only the organization's admins may do this"
        )
    return HttpError(404, "not_found", "no such row in your organizations")


# -- endpoints -------------------------------------------------------------------------------


def me(request: flask.Request, user: auth.User) -> flask.Response:
    with members.transaction(user) as conn:
        organizations = fetch_all(conn, "console_me")
    return json_response(
        200, {"user_id": user.user_id, "email": user.claims.get("email"), "organizations": organizations}
    )


def campaigns(request: flask.Request, user: auth.User) -> flask.Response:
    before_at, before_id = m.cursor(request.args.get("before"), m.LATEST)
    limit = limit_arg(request)
    with members.transaction(user) as conn:
        rows = fetch_all(
            conn,
            "console_campaigns",
            org=org_arg(request),
            before_at=before_at,
            before_id=before_id,
            limit=limit,
        )
    return json_response(200, {"campaigns": rows, "next": m.next_cursor(rows, "created_at", limit)})


def campaign_figures(request: flask.Request, user: auth.User, campaign: UUID) -> flask.Response:
    with members.transaction(user) as conn:
        row = fetch_one(conn, "console_campaign_figures", campaign=campaign)
    if row is None:
        raise HttpError(404, "not_found", "no such campaign in your organizations")
    return json_response(200, row)


def campaign(request: flask.Request, user: auth.User, campaign: UUID) -> flask.Response:
    with members.transaction(user) as conn:
        steps = fetch_all(conn, "console_campaign_steps", campaign=campaign)
        mailboxes = fetch_all(conn, "console_campaign_mailboxes", campaign=campaign)
    return json_response(200, {"steps": steps, "mailboxes": mailboxes})


def campaign_status(request: flask.Request, user: auth.User, campaign: UUID) -> flask.Response:
    body = validate(m.CampaignStatus, read_json(request))
    with members.transaction(user) as conn:
        row = fetch_one(conn, "console_campaign_status", status=body.status, campaign=campaign)
        if row is None:
            raise refused_or_missing(conn, "console_campaign_visible", campaign=campaign)
    return json_response(200, row)


def drafts(request: flask.Request, user: auth.User) -> flask.Response:
    org = org_arg(request)
    after_at, after_id = m.cursor(request.args.get("after"), m.EARLIEST)
    limit = limit_arg(request)
    with members.transaction(user) as conn:
        rows = fetch_all(conn, "console_drafts", org=org, after_at=after_at, after_id=after_id, limit=limit)
        total = (
            fetch_row(conn, "console_drafts_count", org=org)["n"] if not request.args.get("after") else None
        )
    return json_response(
        200, {"drafts": rows, "total": total, "next": m.next_cursor(rows, "created_at", limit)}
    )


def draft_edit(request: flask.Request, user: auth.User, draft: UUID) -> flask.Response:
    body = validate(m.DraftEdit, read_json(request))
    with members.transaction(user) as conn:
        row = fetch_one(conn, "console_draft_edit", id=draft, subject=body.subject, body=body.body)
    if row is None:
        raise HttpError(409, "not_a_draft", "this message is no longer a draft of yours")
    return json_response(200, row)


def drafts_decide(request: flask.Request, user: auth.User) -> flask.Response:
    body = validate(m.Decision, read_json(request))
    status = "scheduled" if body.decision == "approve" else "canceled"
    with members.transaction(user) as conn:
        rows = fetch_all(conn, "console_drafts_decide", ids=body.ids, status=status)
    changed = {str(r["id"]) for r in rows}
    return json_response(
        200, {"changed": sorted(changed), "unchanged": sorted({str(i) for i in body.ids} - changed)}
    )


def inbox(request: flask.Request, user: auth.User) -> flask.Response:
    org = org_arg(request)
    before_at, before_id = m.cursor(request.args.get("before"), m.LATEST)
    intent = request.args.get("intent") or None
    if intent is not None and intent not in INTENTS:
        raise HttpError(400, "invalid_argument", "intent is one of " + ", ".join(INTENTS))
    limit = limit_arg(request)
    with members.transaction(user) as conn:
        rows = fetch_all(
            conn,
            "console_inbox",
            org=org,
            before_at=before_at,
            before_id=before_id,
            intent=intent,
            limit=limit,
        )
        quarantined = [] if request.args.get("before") else fetch_all(conn, "console_quarantine", org=org)
    return json_response(
        200, {"messages": rows, "quarantined": quarantined, "next": m.next_cursor(rows, "received_at", limit)}
    )


def thread(request: flask.Request, user: auth.User, message: UUID) -> flask.Response:
    with members.transaction(user) as conn:
        first = fetch_one(conn, "console_inbox_message", id=message)
        if first is None or first["contact_id"] is None:
            raise HttpError(404, "not_found", "no such message in your organizations")
        rows = fetch_all(
            conn,
            "console_thread",
            contact=first["contact_id"],
            campaign=first["campaign_id"],
            next_flow=first["next_flow_id"],
        )
    drafts_waiting = [r for r in rows if r["side"] == "ours" and r["status"] == "draft"]
    # The reply drafted for this very message first; else the last draft waiting in the thread.
    own = [r for r in drafts_waiting if r["id"] == first["next_flow_id"]]
    waiting = own or drafts_waiting
    return json_response(200, {"thread": rows, "reply_draft": waiting[-1] if waiting else None})


def read_again(request, user, item):
    """Ask the next sync to read a set-aside message again (members may set read_again)."""
    with members.transaction(user) as conn:
        row = fetch_one(conn, "console_quarantine_read_again", id=item)
    if row is None:
        raise HttpError(404, "not_found", "no such set-aside message in your organizations")
    return json_response(200, row)


def mailboxes(request: flask.Request, user: auth.User) -> flask.Response:
    with members.transaction(user) as conn:
        rows = fetch_all(conn, "console_mailboxes", org=org_arg(request))
    return json_response(200, {"mailboxes": rows})


def complaint_rates(request: flask.Request, user: auth.User) -> flask.Response:
    with members.transaction(user) as conn:
        rows = fetch_all(conn, "console_complaint_rates", org=org_arg(request))
    return json_response(200, {"complaint_rates": rows})


def mailbox_active(request: flask.Request, user: auth.User, mailbox: UUID) -> flask.Response:
    body = validate(m.MailboxActive, read_json(request))
    with members.transaction(user) as conn:
        row = fetch_one(conn, "console_mailbox_active", id=mailbox, active=body.active)
        if row is None:
            raise refused_or_missing(conn, "console_mailbox_visible", id=mailbox)
    return json_response(200, row)


def mailbox_add(request: flask.Request, user: auth.User) -> flask.Response:
    # The body holds passwords: it is never logged, and errors name fields, not values.
    body = validate(m.MailboxAdd, read_json(request))
    with members.transaction(user) as conn:
        row = fetch_one(
            conn,
            "console_mailbox_add",
            org=body.organization_id,
            email=body.email,
            smtp_url=body.smtp_url,
            imap_url=body.imap_url,
            daily_cap=body.daily_cap,
        )
    return json_response(201, row)


def contacts(request: flask.Request, user: auth.User) -> flask.Response:
    org = org_arg(request)
    limit = limit_arg(request)
    query = (request.args.get("q") or "").strip().lower()
    if len(query) > 200:
        raise HttpError(400, "invalid_argument", "the search is at most 200 characters")
    if "\x00" in query:
        raise HttpError(400, "invalid_argument", "the search holds a NUL character")
    with members.transaction(user) as conn:
        if query:
            rows = fetch_all(conn, "console_contacts", org=org, prefix=query, limit=limit)
            cursor = None
        else:
            before_at, before_id = m.cursor(request.args.get("before"), m.LATEST)
            rows = fetch_all(
                conn,
                "console_contacts_recent",
                org=org,
                before_at=before_at,
                before_id=before_id,
                limit=limit,
            )
            cursor = m.next_cursor(rows, "created_at", limit)
    return json_response(200, {"contacts": rows, "next": cursor})


def contact(request: flask.Request, user: auth.User, contact: UUID) -> flask.Response:
    with members.transaction(user) as conn:
        row = fetch_one(conn, "console_contact", id=contact)
        if row is None:
            raise HttpError(404, "not_found", "no such contact in your organizations")
        if row["email"]:
            data = fetch_row(conn, "console_contact_data", id=contact)["data"]
        else:  # reached through its site's contact form: no address to look it up by
            data = [{"contact": row}]
    return json_response(200, {"data": data})


def contact_unsubscribe(request: flask.Request, user: auth.User, contact: UUID) -> flask.Response:
    body = validate(m.Unsubscribe, read_json(request, empty={}))
    with members.transaction(user) as conn:
        changed = execute(conn, "console_contact_unsubscribe", id=contact, reason=body.reason)
    if not changed:
        raise HttpError(404, "not_found", "no such contact in your organizations")
    return json_response(200, {"unsubscribed": True})


# Each takes the request, the signed-in user and the URL's arguments (a UUID each).
ENDPOINTS: dict[str, Callable[..., flask.Response]] = {
    "me": me,
    "campaigns": campaigns,
    "campaign": campaign,
    "campaign_figures": campaign_figures,
    "campaign_status": campaign_status,
    "drafts": drafts,
    "draft_edit": draft_edit,
    "drafts_decide": drafts_decide,
    "inbox": inbox,
    "thread": thread,
    "read_again": read_again,
    "mailboxes": mailboxes,
    "mailbox_add": mailbox_add,
    "complaint_rates": complaint_rates,
    "mailbox_active": mailbox_active,
    "contacts": contacts,
    "contact": contact,
    "contact_unsubscribe": contact_unsubscribe,
}
