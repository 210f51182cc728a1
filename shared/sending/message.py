"""Composes an outreach email: text and HTML parts, threading, and the headers and footer the
law and the mailbox providers ask for (RFC 8058 one-click unsubscribe, RFC 2369, CAN-SPAM).

The message is written out as bytes directly rather than through `EmailMessage`, whose header
registry parses every header it is given and cost about 2 ms per message, most of send_due's
time (docs/PERFORMANCE.md). The email package still does the parts that are hard to get right:
RFC 2047 encoded words for non-ASCII headers and quoted-printable for over-long lines. The
unit tests parse every shape of message back with the email package.
"""

from __future__ import annotations

import binascii
import email.policy
import html
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime, formataddr, parseaddr

from shared.core.config import get_settings
from shared.inbound import tokens
from shared.inbound.pages import language_of
from shared.sending.errors import Unsendable as Unsendable
from shared.sending.rows import SendContext

# RFC 5322 allows 998 characters a line. RFC 2047 wants encoded words of at most 75; the email
# package's folding at 78 columns makes them 76, at 76 columns it keeps them within 75.
MAX_LINE = 998
ENCODED_LINE = 76
ENCODED_WORDS = email.policy.SMTP.clone(max_line_length=ENCODED_LINE)

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
# Where the address came from, in the first message (GDPR Article 14 asks the sender to name the
# source of data it did not collect from the person).
SOURCE = {
    "en": "We found this address on {page} on {date}.",
    "es": "Encontramos esta dirección en {page} el {date}.",
}
MONTHS = {
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
}


def source_line(ctx: SendContext, language: str) -> str:
    """The first message's line naming the page the address was found on, or "" when unknown."""
    page, found_at = ctx.source_url, ctx.found_at
    if ctx.sequence_order != 0 or not page or not found_at or not page.startswith(("http://", "https://")):
        return ""
    month = MONTHS[language].split()[found_at.month - 1]
    date = (
        f"{found_at.day} de {month} de {found_at.year}"
        if language == "es"
        else f"{found_at.day} {month} {found_at.year}"
    )
    return SOURCE[language].format(page=page, date=date)


@dataclass(frozen=True)
class Outgoing:
    """One message ready for a transport: who it goes to and its RFC 5322 bytes."""

    flow_id: uuid.UUID
    message_id: str
    sender: str
    recipient: str
    data: bytes

    def as_bytes(self) -> bytes:
        return self.data


def sender_address(ctx: SendContext) -> Address:
    """The mailbox sending the message (its name, else the campaign's sender name); without
    one, MAIL_FROM with the campaign's own sender name and address where ai_settings gives them."""
    name, addr = parseaddr(get_settings().mail_from)
    ai_settings = ctx.ai
    name = ai_settings.get("sender_name") or name
    addr = ai_settings.get("sender_email") or addr
    if ctx.mailbox_email:
        name = ctx.mailbox_name or ai_settings.get("sender_name") or ""
        addr = ctx.mailbox_email
    local, _, domain = addr.partition("@")
    return Address(display_name=name or "", username=local, domain=domain)


def new_message_id(sender: Address) -> str:
    try:
        domain = smtp_address(f"x@{sender.domain}").partition("@")[2] if sender.domain else "localhost"
    except Unsendable:
        domain = "localhost"
    return f"<{uuid.uuid4().hex}.{secrets.token_hex(4)}@{domain}>"


def compose(ctx: SendContext, message_id: str) -> Outgoing:
    settings = get_settings()
    sender = sender_address(ctx)
    if not ctx.email:
        raise Unsendable("the contact has no email address")
    recipient = smtp_address(ctx.email)
    url = tokens.unsubscribe_url(ctx.id)
    language = language_of(ctx.language_preference, ctx.default_language, supported=FOOTER)
    notice, objection, unsubscribe_word = FOOTER[language]
    postal = settings.sender_postal_address
    signature = sender.display_name or sender.addr_spec

    subject = ctx.subject or ""
    threaded = ctx.sequence_order > 0 and bool(ctx.thread_message_id)
    in_reply_to = references = ctx.thread_message_id
    if ctx.flow_type == "reply" and ctx.in_reply_to:
        # A reply answers the prospect's own message, under the subject they wrote ("Re: …").
        threaded, in_reply_to = True, ctx.in_reply_to
        references = ctx.reply_references or in_reply_to
    elif ctx.sequence_order > 0 and ctx.thread_subject:
        subject = f"Re: {ctx.thread_subject}"

    body = (ctx.body or "").rstrip()
    source = source_line(ctx, language)
    notice_lines = f"{notice}\n{source}" if source else notice
    text = f"{body}\n\n--\n{signature}, {postal}\n{notice_lines}\n{objection.format(url=url)}\n"

    unsubscribe = f"<{url}>"
    if settings.unsubscribe_mailto:
        unsubscribe += f", <mailto:{settings.unsubscribe_mailto}?subject=unsubscribe>"
    boundary = f"=_{secrets.token_hex(16)}"
    headers = [
        header("Message-ID", message_id),
        header("Date", format_datetime(datetime.now(UTC))),
        address_header("From", sender.display_name, smtp_address(sender.addr_spec)),
        address_header("To", ctx.contact_name or "", recipient),
        header("Subject", subject),
    ]
    if threaded and in_reply_to:
        headers += [header("In-Reply-To", in_reply_to), header("References", references or in_reply_to)]
    headers += [
        header("List-Unsubscribe", unsubscribe),
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
        "Auto-Submitted: no\r\n",
        "MIME-Version: 1.0\r\n",
    ]
    if ctx.ai.get("format") == "text":
        # Plain text only, as one person writes to another (ai_settings.format = "text").
        data = "".join(headers).encode("ascii") + text_part("plain", text)
    else:
        page = html_page(body, language, signature, postal, notice_lines, url, unsubscribe_word)
        data = b"".join(
            [
                "".join(headers).encode("ascii"),
                f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'.encode(),
                f"\r\n--{boundary}\r\n".encode(),
                text_part("plain", text),
                f"--{boundary}\r\n".encode(),
                text_part("html", page),
                f"--{boundary}--\r\n".encode(),
            ]
        )
    return Outgoing(ctx.id, message_id, smtp_address(sender.addr_spec), recipient, data)


def html_page(body: str, language: str, signature: str, postal: str, notice: str, url: str, word: str) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n") if p.strip()
    )
    return (
        f'<!doctype html><html lang="{language}"><body>{paragraphs}'
        '<hr style="border:none;border-top:1px solid #ddd">'
        f'<p style="font-size:12px;color:#666">{html.escape(signature)}, '
        f"{html.escape(postal)}<br>{html.escape(notice).replace(chr(10), '<br>')}<br>"
        f'<a href="{html.escape(url)}">{html.escape(word)}</a></p></body></html>\n'
    )


def smtp_address(addr: str) -> str:
    """The address as SMTP without the SMTPUTF8 extension carries it: the domain in IDNA form;
    a local part that is not ASCII cannot be carried, and the message is not sent."""
    if addr.isascii():
        return addr
    local, _, domain = addr.rpartition("@")
    if not local.isascii():
        raise Unsendable(f"the address {addr!r} needs SMTPUTF8, which this sender does not use")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError as exc:
        raise Unsendable(f"the domain of {addr!r} is not a valid internationalized name") from exc


def header(name: str, value: str) -> str:
    """One header line; RFC 2047 encoded words, folded, when not plain ASCII. Line breaks in a
    value are flattened, so no value can start a header of its own."""
    value = "".join(c if c.isprintable() else " " for c in value)
    if value.isascii() and len(name) + len(value) + 2 <= MAX_LINE:
        return f"{name}: {value}\r\n"
    folded = Header(value, "utf-8", maxlinelen=ENCODED_LINE, header_name=name).encode(linesep="\r\n")
    return f"{name}: {folded}\r\n"


def address_header(name: str, display_name: str, addr: str) -> str:
    display_name = " ".join(display_name.split())
    if display_name.isascii():
        return header(name, formataddr((display_name, addr)))
    # The header registry quotes and encodes a display name as an RFC 5322 phrase.
    address = str(Address(display_name=display_name, addr_spec=addr))
    return ENCODED_WORDS.header_factory(name, address).fold(policy=ENCODED_WORDS)


def text_part(subtype: str, content: str) -> bytes:
    """A text/* part in UTF-8: 7bit or 8bit when every line fits in 998 octets (what the email
    package chooses under the SMTP policy), quoted-printable otherwise."""
    lines = content.encode("utf-8").splitlines()
    if max(map(len, lines), default=0) <= MAX_LINE:
        encoding = "7bit" if content.isascii() else "8bit"
        body = b"\r\n".join(lines) + b"\r\n"
    else:
        encoding = "quoted-printable"
        body = binascii.b2a_qp(b"\n".join(lines) + b"\n").replace(b"\n", b"\r\n")
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n'
    return head.encode("ascii") + body
