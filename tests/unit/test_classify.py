"""What a message read back from a mailbox is: cases written for each kind, in the languages
the classifier reads, and hostile shapes (broken MIME, unknown charsets) that must never raise."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.inbound import classify

TODAY = date(2026, 11, 25)


def message(
    body: str = "Thanks!",
    subject: str = "Re: Quick question",
    headers: str = "",
    sender: str = "Sam Lee <sam@greenleaf.example>",
) -> bytes:
    head = (
        f"From: {sender}\r\nTo: ana@team.example\r\nSubject: {subject}\r\n"
        "Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <reply-1@greenleaf.example>\r\n"
        "In-Reply-To: <ours-1@team.example>\r\nReferences: <ours-0@team.example> <ours-1@team.example>\r\n"
        f"{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    return (head + body.replace("\n", "\r\n")).encode()


def test_a_reply_names_what_it_answers_and_keeps_only_the_new_text():
    body = (
        "Yes, call me on Thursday.\n\nSam\n\n"
        "On Tue, 24 Nov 2026 at 09:00, Ana <ana@team.example> wrote:\n> Would a short call help?\n> Ana"
    )
    found = classify.read(message(body), TODAY)
    assert found.kind == "reply"
    assert found.references == ["<ours-1@team.example>", "<ours-0@team.example>"]
    assert found.snippet == "Yes, call me on Thursday.\nSam"
    assert found.sender == "sam@greenleaf.example" and found.fingerprint == "<reply-1@greenleaf.example>"
    assert found.thread_subject == "quick question"


@pytest.mark.parametrize(
    "subject",
    [
        "RE: Quick question",
        "Re: Re: Quick question",
        "AW: Quick question",
        "Fwd: Quick question",
        "RV: Quick question",
        "Réf : Quick question",
    ],
)
def test_reply_prefixes_of_every_language_come_off_the_subject(subject):
    assert classify.read(message(subject=subject), TODAY).thread_subject == "quick question"


@pytest.mark.parametrize(
    "words",
    [
        "Please remove me from your list.",
        "Not interested, thanks.",
        "Stop emailing me.",
        "Por favor, darme de baja.",
        "No nos interesa, gracias.",
        "Bitte austragen, kein Interesse.",
        "Merci de ne plus me contacter.",
        "Pas intéressé.",
    ],
)
def test_a_request_to_stop_in_each_language(words):
    assert classify.read(message(words), TODAY).kind == "stop_request"


def test_stop_words_in_the_quoted_text_do_not_count():
    body = "Sounds good, tell me more.\n\n> To unsubscribe, reply with remove me"
    assert classify.read(message(body), TODAY).kind == "reply"


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ("Auto-Submitted: auto-replied\r\n", "Re: Quick question"),
        ("X-Autoreply: yes\r\n", "Re: Quick question"),
        ("Precedence: auto_reply\r\n", "Re: Quick question"),
        ("", "Out of Office: Quick question"),
        ("", "Automatic reply: Quick question"),
        ("", "Abwesenheitsnotiz: Quick question"),
        ("", "Réponse automatique : Quick question"),
        ("", "Respuesta automática: Quick question"),
    ],
)
def test_automatic_replies_are_not_replies(headers, subject):
    assert classify.read(message("I am away.", subject, headers), TODAY).kind == "auto_reply"


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("I am out of the office until 7 December 2026.", date(2026, 12, 7)),
        ("Away from 1 December, back on Monday 7th December.", date(2026, 12, 7)),
        ("I will return on December 14, 2026.", date(2026, 12, 14)),
        ("Back on 2026-12-03.", date(2026, 12, 3)),
        ("Estaré fuera hasta el 9 de diciembre.", date(2026, 12, 9)),
        ("Ich bin bis zum 10. Dezember nicht im Büro.", date(2026, 12, 10)),
        ("Ich bin ab dem 04.01.2027 wieder erreichbar.", date(2027, 1, 4)),
        ("Je suis absent jusqu'au 8 décembre.", date(2026, 12, 8)),
        ("Back on 12/24.", date(2026, 12, 24)),
        ("Back in January: 5 Jan.", date(2027, 1, 5)),
        ("I am on leave.", None),
        ("Back on 1 March 2024.", None),  # past
    ],
)
def test_the_return_date_of_an_automatic_reply(text, back):
    found = classify.read(message(text, "Out of office", "Auto-Submitted: auto-replied\r\n"), TODAY)
    assert found.kind == "auto_reply" and found.return_date == back


DSN = b"""From: Mail Delivery System <MAILER-DAEMON@mx.team.example>\r
To: ana@team.example\r
Subject: Undelivered Mail Returned to Sender\r
Message-ID: <dsn-1@mx.team.example>\r
Auto-Submitted: auto-replied\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r
\r
--B\r
Content-Type: text/plain\r
\r
I'm sorry to have to inform you that your message could not be delivered.\r
--B\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.team.example\r
\r
Final-Recipient: rfc822; gone@greenleaf.example\r
Original-Recipient: rfc822;gone@greenleaf.example\r
Action: failed\r
Status: 5.1.1\r
Diagnostic-Code: smtp; 550 5.1.1 <gone@greenleaf.example>: Recipient address rejected\r
--B\r
Content-Type: text/rfc822-headers\r
\r
From: Ana <ana@team.example>\r
To: gone@greenleaf.example\r
Subject: Quick question\r
Message-ID: <ours-9@team.example>\r
--B--\r
"""


def test_an_rfc_3464_report_names_the_failed_address_and_our_message():
    found = classify.read(DSN, TODAY)
    assert found.kind == "bounce" and found.bounced == ["gone@greenleaf.example"]
    assert found.quoted == ["<ours-9@team.example>"]


def test_a_report_quotes_only_what_its_returned_headers_carry():
    """A Message-ID written in a report's free text, or in its own threading headers, is no
    proof it returns our message: anyone can write one there."""
    forged = DSN.replace(
        b"I'm sorry to have to inform you",
        b"Message-ID: <ours-1@team.example>\r\nI'm sorry to have to inform you",
    ).replace(b"Message-ID: <ours-9@team.example>\r\n", b"")
    forged = forged.replace(b"Auto-Submitted", b"In-Reply-To: <ours-2@team.example>\r\nAuto-Submitted")
    found = classify.read(forged, TODAY)
    assert found.kind == "bounce" and found.quoted == []


def test_a_report_returning_the_whole_message_quotes_its_message_id():
    whole = DSN.replace(b"Content-Type: text/rfc822-headers", b"Content-Type: message/rfc822")
    assert classify.read(whole, TODAY).quoted == ["<ours-9@team.example>"]


def test_thousands_of_nested_parts_are_read_by_their_headers():
    """3,000 nested multipart/mixed levels (178 KB) exhaust the MIME parser's recursion."""
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(3000)
    )
    head = message().partition(b"Content-Type: text/plain")[0]
    raw = head + nested + b"Content-Type: text/plain\r\n\r\nremove me\r\n"
    found = classify.read(raw, TODAY)
    assert found.kind == "reply" and found.sender == "sam@greenleaf.example" and found.snippet == ""
    assert found.references == ["<ours-1@team.example>", "<ours-0@team.example>"]


def test_a_refusal_by_policy_is_no_bounce_of_the_address():
    """Microsoft's 5.7.515 (our sending domain's authentication) or Gmail's 5.7.26 blames us, not
    the address: such a report is read as refused by policy, whether the Status says 5.7.x or
    only 5.0.0 beside the remote server's own code."""
    outlook = DSN.replace(b"Status: 5.1.1", b"Status: 5.7.515").replace(
        b"550 5.1.1 <gone@greenleaf.example>: Recipient address rejected",
        b"550 5.7.515 Access denied, sending domain team.example does not meet the required authentication level",
    )
    found = classify.read(outlook, TODAY)
    assert found.kind == "bounce" and found.refused_by_policy and found.bounced == ["gone@greenleaf.example"]
    assert found.quoted == ["<ours-9@team.example>"]
    relayed = DSN.replace(b"Status: 5.1.1", b"Status: 5.0.0").replace(
        b"550 5.1.1 <gone@greenleaf.example>: Recipient address rejected",
        b"550-5.7.26 This mail has been blocked because the sender is unauthenticated.",
    )
    assert classify.read(relayed, TODAY).refused_by_policy
    assert not classify.read(DSN, TODAY).refused_by_policy


def test_a_report_bounces_only_the_addresses_it_blames():
    two = DSN.replace(
        b"Diagnostic-Code: smtp; 550 5.1.1 <gone@greenleaf.example>: Recipient address rejected\r\n",
        b"Diagnostic-Code: smtp; 550 5.1.1 <gone@greenleaf.example>: Recipient address rejected\r\n"
        b"\r\nFinal-Recipient: rfc822; sam@bluebird.example\r\nAction: failed\r\nStatus: 5.7.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.7.1 Service unavailable, client host [192.0.2.1] blocked\r\n",
    )
    found = classify.read(two, TODAY)
    assert (
        found.kind == "bounce" and found.bounced == ["gone@greenleaf.example"] and not found.refused_by_policy
    )


def test_a_delay_report_is_not_a_bounce():
    delayed = DSN.replace(b"Action: failed", b"Action: delayed").replace(b"Status: 5.1.1", b"Status: 4.4.1")
    assert classify.read(delayed, TODAY).kind == "other"


EXIM = b"""From: Mail Delivery System <Mailer-Daemon@mx.example>\r
To: ana@team.example\r
Subject: Mail delivery failed: returning message to sender\r
Message-ID: <exim-1@mx.example>\r
\r
This message was created automatically by mail delivery software.\r
\r
A message that you sent could not be delivered to one or more of its\r
recipients. This is a permanent error. The following address(es) failed:\r
\r
  nobody@greenleaf.example\r
    SMTP error from remote mail server after RCPT TO:<nobody@greenleaf.example>:\r
    550 5.1.1 User unknown\r
"""


def test_a_non_standard_exim_bounce_is_read():
    found = classify.read(EXIM, TODAY)
    assert found.kind == "bounce" and found.bounced == ["nobody@greenleaf.example"]


def test_a_newsletter_is_nothing():
    found = classify.read(
        message("Our November news", "News", "List-Id: <news.example>\r\nPrecedence: bulk\r\n"), TODAY
    )
    assert found.kind == "other"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"Subject: =?x-unknown?B?SGVsbG8=?=\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n\xe9t\xe9",
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n--never-closed\r\nContent-Type: text/plain\r\n\r\nhi',
        b"Content-Type: multipart/mixed\r\n\r\nno boundary at all",
        b"Content-Transfer-Encoding: base64\r\nContent-Type: text/plain\r\n\r\n!!!not base64!!!",
        b"From: =?utf-8?Q?broken\r\nDate: not a date\r\nIn-Reply-To: <" + b"x" * 5000 + b">\r\n\r\nbody",
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Yes please<blockquote>remove me</blockquote>",
    ],
)
def test_hostile_messages_never_raise(raw):
    found = classify.read(raw, TODAY)
    assert found.kind in ("reply", "other", "stop_request") and found.fingerprint


def test_html_only_replies_are_read_without_their_quote():
    raw = b"Content-Type: text/html; charset=utf-8\r\nIn-Reply-To: <a@b>\r\n\r\n<p>Yes please</p><blockquote>remove me</blockquote>"
    found = classify.read(raw, TODAY)
    assert found.kind == "reply" and found.snippet == "Yes please"


def test_a_latin_1_reply_is_decoded():
    raw = message("Gracias, llámeme el jueves.").replace(b"charset=utf-8", b"charset=iso-8859-1")
    raw = raw.replace("llámeme".encode(), "llámeme".encode("latin-1"))
    assert classify.read(raw, TODAY).snippet == "Gracias, llámeme el jueves."


def test_nul_and_control_characters_never_reach_what_is_stored():
    raw = message("Yes\x00 please\x1b[31m", "Re: Quick\x00 question").replace(b"<reply-1@", b"<re\x00ply-1@")
    found = classify.read(raw.replace(b"Sam Lee <sam@", b"Sam\x00 <s\x00am@"), TODAY)
    assert (found.subject, found.snippet, found.sender) == (
        "Re: Quick question",
        "Yes please [31m",
        "sam@greenleaf.example",
    )
    assert "\x00" not in found.fingerprint


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_are_classified_without_raising(raw):
    found = classify.read(raw, TODAY)
    assert found.kind in ("reply", "auto_reply", "bounce", "stop_request", "other")
    assert len(found.snippet) <= classify.SNIPPET_CHARS
    stored = [
        found.sender,
        found.subject,
        found.snippet,
        found.fingerprint,
        *found.references,
        *found.bounced,
    ]
    assert not any("\x00" in value for value in stored)


def test_the_return_date_parser_stands_on_its_own():
    from shared.inbound.return_date import return_date

    assert return_date("Back on Monday 7th December.", None, TODAY) == date(2026, 12, 7)
    assert return_date("No date here.", None, TODAY) is None
