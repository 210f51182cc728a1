"""The message writer: every shape of message parses back with the email package to what was
meant, with no defects, and no value can break out of its header."""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from datetime import UTC, datetime

import pytest

from shared.sending import message
from shared.sending.rows import SendContext

FLOW = uuid.UUID("00000000-0000-4000-8000-000000000001")


def context(**overrides) -> SendContext:
    """A row as load-send-context returns it (every column named: the class takes no fewer)."""
    ctx = {
        "id": FLOW,
        "campaign_id": uuid.uuid4(),
        "contact_id": uuid.uuid4(),
        "sequence_order": 0,
        "subject": "Quick question",
        "body": "Hello there.\n\nA second paragraph.\n\nSam",
        "attempts": 1,
        "email": "lead@studio.example",
        "contact_name": "Lead Person",
        "language_preference": None,
        "phone": None,
        "contact_timezone": None,
        "source_url": None,
        "found_at": None,
        "campaign_name": "Studios",
        "ai_settings": {},
        "default_language": "en",
        "org_name": "Mat Makers",
        "organization_id": uuid.uuid4(),
        "thread_message_id": None,
        "thread_subject": None,
        "mailbox_id": None,
        "mailbox_email": None,
        "mailbox_name": None,
        "flow_type": "email",
        "form_site": None,
        "form_page_url": None,
        "form_action": None,
        "form_roles": None,
        "in_reply_to": None,
        "reply_references": None,
    }
    return SendContext(**{**ctx, **overrides})


def written(ctx: SendContext, **settings) -> tuple[bytes, email.message.EmailMessage]:
    raw = message.compose(ctx, "<abc.123@sender.example>").as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    return raw, parsed


@pytest.fixture(autouse=True)
def sender(env):
    env(MAIL_FROM="Ana Pérez <ana@sender.example>", SENDER_POSTAL_ADDRESS="Calle Mayor 1, Madrid")


def headers_of(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def test_plain_message_parses_back_without_defects():
    raw, msg = written(context())
    assert not msg.defects and all(not part.defects for part in msg.walk())
    assert msg["Message-ID"] == "<abc.123@sender.example>"
    assert msg["Subject"] == "Quick question"
    assert msg["To"].addresses[0].addr_spec == "lead@studio.example"
    assert msg["To"].addresses[0].display_name == "Lead Person"
    assert msg["From"].addresses[0].display_name == "Ana Pérez"
    assert msg["Date"].datetime is not None
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith(
        "Hello there.\n\nA second paragraph.\n\nSam\n\n--\nAna Pérez, Calle Mayor 1, Madrid\n"
    )
    html = msg.get_body(("html",)).get_content()
    assert "<p>A second paragraph.</p>" in html and "Unsubscribe</a>" in html
    assert b"\n" not in raw.replace(b"\r\n", b""), "every line ends in CRLF"
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_headers_are_seven_bit_and_encoded_words_short():
    long_name = "Zoë Ñúñez de la Peña y Muñoz-Álvarez, Estudio"
    subject = "¿Café? " + "Ünïcødé 🙂 " * 12
    raw, msg = written(context(subject=subject, contact_name=long_name, ai_settings={"sender_name": "Zoë"}))
    head = headers_of(raw)
    assert head.isascii()
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if b"=?" in line)
    assert all(len(word) <= 75 for word in re.findall(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=", head))
    assert msg["Subject"] == subject
    assert msg["To"].addresses[0].display_name == long_name
    assert msg["From"].addresses[0].display_name == "Zoë"


def test_display_names_with_specials_are_quoted():
    _, msg = written(context(contact_name='Smith, "Jo" <boss>'))
    (address,) = msg["To"].addresses
    assert address.display_name == 'Smith, "Jo" <boss>' and address.addr_spec == "lead@studio.example"


@pytest.mark.parametrize("field", ["subject", "contact_name"])
def test_line_breaks_cannot_add_a_header(field):
    raw, msg = written(context(**{field: "Hi\r\nBcc: victim@elsewhere.example\nX-Evil: 1"}))
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert b"\r\nBcc:" not in headers_of(raw)


def test_follow_up_threads_and_says_re():
    _, msg = written(
        context(
            sequence_order=1, subject="ignored", thread_message_id="<first@x>", thread_subject="Your studio"
        )
    )
    assert msg["In-Reply-To"] == "<first@x>" and msg["References"] == "<first@x>"
    assert msg["Subject"] == "Re: Your studio"


def test_first_message_has_no_threading_headers():
    _, msg = written(context(thread_message_id="<first@x>"))
    assert msg["In-Reply-To"] is None and msg["References"] is None


def test_list_unsubscribe_is_one_unfolded_line(env):
    env(UNSUBSCRIBE_MAILTO="unsubscribe@sender.example")
    raw, _ = written(context())
    line = next(line for line in raw.split(b"\r\n") if line.startswith(b"List-Unsubscribe:"))
    assert re.fullmatch(
        rb"List-Unsubscribe: <https://outreach\.test/unsubscribe_webhook\?token=[^>]+>, "
        rb"<mailto:unsubscribe@sender\.example\?subject=unsubscribe>",
        line,
    )
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in headers_of(raw)


def test_non_ascii_body_is_8bit_and_long_lines_quoted_printable():
    _, msg = written(context(body="Olá, ¿qué tal?"))
    assert msg.get_body(("plain",))["Content-Transfer-Encoding"] == "8bit"
    long_line = "word " * 400
    raw, msg = written(context(body=long_line + "\n.leading dot stays"))
    plain = msg.get_body(("plain",))
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert plain.get_content().replace("\r\n", "\n").startswith(long_line + "\n.leading dot stays\n")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_spanish_contact_gets_the_spanish_footer():
    _, msg = written(context(language_preference="es"))
    assert "Darse de baja" in msg.get_body(("html",)).get_content()
    assert "derecho a oponerse" in msg.get_body(("plain",)).get_content()


def test_internationalized_domain_goes_out_as_punycode():
    outgoing = message.compose(context(email="ana@café.example"), "<m@x>")
    assert outgoing.recipient == "ana@xn--caf-dma.example"
    assert b"ana@xn--caf-dma.example" in headers_of(outgoing.as_bytes())


def test_address_smtp_cannot_carry_is_refused():
    with pytest.raises(message.Unsendable, match="SMTPUTF8"):
        message.compose(context(email="josé@example.com"), "<m@x>")


@pytest.mark.parametrize("control", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\x00"])
def test_control_characters_never_reach_a_header_raw(control):
    raw, msg = written(context(subject=f"Quick{control}question", contact_name=f"Lead{control}Person"))
    head = headers_of(raw).decode("ascii")
    assert control not in head and "\x0b" not in head and "\x1c" not in head
    assert msg["Subject"] == "Quick question" and not msg.defects


def test_plain_text_only_when_the_campaign_asks():
    raw, msg = written(context(ai_settings={"format": "text"}))
    assert msg.get_content_type() == "text/plain" and not msg.is_multipart() and not msg.defects
    text = msg.get_content()
    assert "Hello there." in text and "https://outreach.test/" in text and "Calle Mayor 1" in text
    assert b"<html" not in raw and msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_first_message_names_where_the_address_was_found():

    found = {
        "source_url": "https://sunriseyoga.studio/contact",
        "found_at": datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
    }
    _, first = written(context(**found))
    line = "We found this address on https://sunriseyoga.studio/contact on 20 November 2026."
    assert line in first.get_body(("plain",)).get_content()
    assert "We found this address on" in first.get_body(("html",)).get_content()
    _, spanish = written(context(**found, language_preference="es"))
    assert "el 20 de noviembre de 2026" in spanish.get_body(("plain",)).get_content()
    _, follow_up = written(context(**found, sequence_order=1))
    assert "We found this address" not in follow_up.get_body(("plain",)).get_content()
    _, hostile = written(context(source_url="javascript:alert(1)", found_at=found["found_at"]))
    assert "We found" not in hostile.get_body(("plain",)).get_content()
