"""Composes an outreach email: text and HTML parts, threading, and the headers and footer the
law and the mailbox providers ask for (RFC 8058 one-click unsubscribe, RFC 2369, CAN-SPAM)."""

from __future__ import annotations

import email.policy
import html
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from shared import tokens
from shared.config import get_settings
from shared.pages import language_of

# RFC 5322 allows 998-character lines. The default 78-column folding would RFC 2047-encode a
# long List-Unsubscribe URL, which mail clients then cannot use.
POLICY = email.policy.SMTP.clone(max_line_length=998)

FOOTER = {
    "en": (
        "You received this because your business details are public on your website.",
        "You have the right to object to this kind of message at any time: {url}",
        "Unsubscribe",
    ),
    "es": (
        "Recibe este mensaje porque los datos de su negocio son públicos en su sitio web.",
        "Tiene derecho a oponerse a este tipo de mensajes en cualquier momento: {url}",
        "Darse de baja",
    ),
}


@dataclass(frozen=True)
class Outgoing:
    """One message ready for a transport: who it goes to and its RFC 5322 bytes."""

    flow_id: uuid.UUID
    message_id: str
    sender: str
    recipient: str
    message: EmailMessage

    def as_bytes(self) -> bytes:
        return self.message.as_bytes()


def sender_address(ai_settings: dict | None) -> Address:
    """MAIL_FROM, with the campaign's own sender name and address where ai_settings gives them."""
    name, addr = parseaddr(get_settings().mail_from)
    ai_settings = ai_settings or {}
    name = ai_settings.get("sender_name") or name
    addr = ai_settings.get("sender_email") or addr
    local, _, domain = addr.partition("@")
    return Address(display_name=name or "", username=local, domain=domain)


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}.{secrets.token_hex(4)}@{domain}>"


def compose(ctx: dict, message_id: str) -> Outgoing:
    """ctx is a row of load-send-context."""
    settings = get_settings()
    sender = sender_address(ctx.get("ai_settings"))
    url = tokens.unsubscribe_url(ctx["id"])
    language = language_of(ctx.get("language_preference"), ctx.get("default_language"), supported=FOOTER)
    notice, objection, unsubscribe_word = FOOTER[language]
    postal = settings.sender_postal_address

    subject = ctx["subject"] or ""
    if ctx["sequence_order"] > 0 and ctx.get("thread_subject"):
        subject = f"Re: {ctx['thread_subject']}"

    text_footer = f"\n\n--\n{sender.display_name or sender.addr_spec}, {postal}\n{notice}\n{objection.format(url=url)}\n"
    body = (ctx["body"] or "").rstrip()
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n") if p.strip()
    )
    html_footer = (
        '<hr style="border:none;border-top:1px solid #ddd">'
        f'<p style="font-size:12px;color:#666">{html.escape(sender.display_name or sender.addr_spec)}, '
        f"{html.escape(postal)}<br>{html.escape(notice)}<br>"
        f'<a href="{html.escape(url)}">{html.escape(unsubscribe_word)}</a></p>'
    )

    msg = EmailMessage(policy=POLICY)
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["From"] = sender
    msg["To"] = Address(display_name=ctx.get("contact_name") or "", addr_spec=ctx["email"])
    msg["Subject"] = subject
    if ctx["sequence_order"] > 0 and ctx.get("thread_message_id"):
        msg["In-Reply-To"] = ctx["thread_message_id"]
        msg["References"] = ctx["thread_message_id"]
    unsubscribe = f"<{url}>"
    if settings.unsubscribe_mailto:
        unsubscribe += f", <mailto:{settings.unsubscribe_mailto}?subject=unsubscribe>"
    msg["List-Unsubscribe"] = unsubscribe
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "no"
    msg.set_content(body + text_footer)
    msg.add_alternative(
        f'<!doctype html><html lang="{language}"><body>{paragraphs}{html_footer}</body></html>',
        subtype="html",
    )
    return Outgoing(ctx["id"], message_id, sender.addr_spec, ctx["email"], msg)
