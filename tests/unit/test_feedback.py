"""Reading complaint feedback reports (ARF, RFC 5965): the fields that matter, the returned
message's Message-ID as the only link to what we sent, and hostile MIME that never raises."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.inbound import classify, feedback

# RFC 5965's own example (Appendix B.1), with the returned message's headers only.
RFC_EXAMPLE = (
    "From: <abusedesk@example.com>\r\nDate: Thu, 8 Mar 2005 17:40:36 EDT\r\n"
    "Subject: FW: Earn money\r\nTo: <abuse@example.net>\r\nMIME-Version: 1.0\r\n"
    "Message-ID: <arf-1@example.com>\r\n"
    'Content-Type: multipart/report; report-type=feedback-report;\r\n     boundary="part1_13d.2e68ed54_boundary"\r\n\r\n'
    '--part1_13d.2e68ed54_boundary\r\nContent-Type: text/plain; charset="US-ASCII"\r\n'
    "Content-Transfer-Encoding: 7bit\r\n\r\nThis is an email abuse report for an email message\r\n"
    "received from IP 192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.\r\n\r\n"
    "--part1_13d.2e68ed54_boundary\r\nContent-Type: message/feedback-report\r\n\r\n"
    "Feedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n"
    "Original-Mail-From: <somespammer@example.net>\r\nOriginal-Rcpt-To: <user@example.com>\r\n"
    "Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\r\nReporting-MTA: dns; mail.example.com\r\n"
    "Source-IP: 192.0.2.1\r\nAuthentication-Results: mail.example.com; spf=fail smtp.mail=somespammer@example.com\r\n"
    "Reported-Domain: example.net\r\n\r\n"
    "--part1_13d.2e68ed54_boundary\r\nContent-Type: text/rfc822-headers\r\n"
    "Content-Transfer-Encoding: 7bit\r\n\r\n"
    "From: <somespammer@example.net>\r\nReceived: from mailserver.example.net (mailserver.example.net\r\n"
    "        [192.0.2.1]) by example.com with ESMTP id M63d4137594e46;\r\n        Thu, 08 Mar 2005 14:00:00 -0400\r\n"
    "To: <Undisclosed Recipients>\r\nSubject: Earn money\r\nMIME-Version: 1.0\r\n"
    "Content-type: text/plain\r\nMessage-ID: 8787KJKJ3K4J3K4J3K4J3.mail@example.net\r\n"
    "Date: Thu, 02 Sep 2004 12:31:03 -0500\r\n\r\n--part1_13d.2e68ed54_boundary--\r\n"
)


def parse(text: str):
    return feedback.read(email.message_from_string(text))


def test_the_rfc_example_is_a_complaint_without_a_message_id_to_match():
    report = parse(RFC_EXAMPLE)
    assert report.feedback_type == "abuse" and report.is_complaint
    assert report.user_agent == "SomeGenerator/1.0"
    assert report.original_recipient == "user@example.com"
    assert report.arrival_date.date() == date(2005, 3, 8)
    assert report.reported_message_id is None  # the example's Message-ID has no angle brackets


def test_the_returned_headers_message_id_is_the_link():
    text = RFC_EXAMPLE.replace(
        "Message-ID: 8787KJKJ3K4J3K4J3K4J3.mail@example.net", "Message-ID: <m1@team.example>"
    )
    assert parse(text).reported_message_id == "<m1@team.example>"
    inbound = classify.read(text.encode(), datetime.now(UTC).date())
    assert inbound.kind == "complaint" and inbound.feedback.reported_message_id == "<m1@team.example>"
    assert inbound.fingerprint == "<arf-1@example.com>"


def test_only_the_returned_message_id_counts_never_its_threading_or_the_reports_own():
    text = RFC_EXAMPLE.replace(
        "Message-ID: 8787KJKJ3K4J3K4J3K4J3.mail@example.net", "In-Reply-To: <m1@team.example>"
    ).replace("Subject: FW: Earn money", "Subject: FW: Earn money\r\nReferences: <m2@team.example>")
    assert parse(text).reported_message_id is None


def test_other_reports_and_plain_mail_are_no_feedback():
    assert parse(RFC_EXAMPLE.replace("report-type=feedback-report", "report-type=delivery-status")) is None
    assert parse("From: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n") is None
    no_fields = RFC_EXAMPLE.replace("Content-Type: message/feedback-report", "Content-Type: text/plain")
    assert parse(no_fields) is None


def test_not_spam_and_virus_are_not_complaints():
    assert not parse(RFC_EXAMPLE.replace("Feedback-Type: abuse", "Feedback-Type: not-spam")).is_complaint
    assert not parse(RFC_EXAMPLE.replace("Feedback-Type: abuse", "Feedback-Type: virus")).is_complaint
    assert parse(RFC_EXAMPLE.replace("Feedback-Type: abuse", "Feedback-Type: FRAUD")).is_complaint


def test_broken_reports_never_raise():
    broken = [
        'Content-Type: multipart/report; report-type=feedback-report; boundary="x"\r\n\r\nno parts at all',
        'Content-Type: multipart/report; report-type=feedback-report; boundary="x"\r\n\r\n--x\r\n'
        "Content-Type: message/feedback-report\r\n\r\n\x00\x01Feedback-Type abuse\r\n--x--",
        'Content-Type: multipart/report; report-type=feedback-report; boundary="x"\r\n\r\n--x\r\n'
        "Content-Type: message/feedback-report\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n--x\r\n"
        "Content-Type: text/rfc822-headers; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable\r\n"
        "\r\nMessage-ID: <=FF=FE@x>\r\n--x--",
        "Content-Type: multipart/report; report-type=feedback-report\r\n\r\nno boundary",
    ]
    for text in broken:
        report = parse(text)
        assert report is None or isinstance(report, feedback.Report)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_generated_bytes_inside_a_report_never_raise(payload):
    raw = (
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="x"\r\n\r\n--x\r\n'
        b"Content-Type: message/feedback-report\r\n\r\n" + payload + b"\r\n--x\r\n"
        b"Content-Type: message/rfc822\r\n\r\n" + payload + b"\r\n--x--\r\n"
    )
    found = classify.read(raw, date(2026, 12, 4))
    assert found.kind in ("complaint", "other", "reply", "stop_request", "auto_reply", "bounce")
