"""Complaint feedback reports (ARF, RFC 5965) read from a mailbox through Dovecot: a report
returning a message we sent marks its contact complained, once, and feeds the breaker; a
forged one (a Message-ID we never sent, another organization's) changes nothing."""

from __future__ import annotations

import secrets

import pytest

from shared.inbound import sync
from tests import factories as f
from tests.helpers import as_role
from tests.imapserver import Dovecot
from tests.integration.test_sync_mailboxes import Team


@pytest.fixture(scope="module")
def dovecot():
    with Dovecot() as server:
        yield server


@pytest.fixture
def team(conn, dovecot, smtp):
    return Team(conn, dovecot, smtp)


@pytest.fixture
def smtp(env, database_url, empty_queue):
    from tests.integration.test_mailboxes import PASSWORD
    from tests.mailserver import Logins, MailServer

    with MailServer(authenticator=Logins("mailer", PASSWORD), auth_require_tls=False) as server:
        env(
            MAIL_TRANSPORT="file",
            ALLOW_PRIVATE_NETWORK="true",
            SEND_DOMAIN_SPACING_SECONDS=0,
            SEND_RATE_PER_SECOND=0,
        )
        yield server


def arf(recipient: str, message_id: str, report_id: str | None = None, feedback_type: str = "abuse") -> bytes:
    """A feedback loop's report as RFC 5965 shows one: the returned message is the original."""
    report_id = report_id or f"<arf-{secrets.token_hex(6)}@arf.mail.yahoo.com>"
    return (
        "From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>\r\n"
        "To: ana@team.example\r\nSubject: FW: Quick question about your studio\r\n"
        f"Message-ID: {report_id}\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="part"\r\n\r\n'
        "--part\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is an email abuse report for an email message received from IP 127.0.0.1.\r\n"
        "--part\r\nContent-Type: message/feedback-report\r\n\r\n"
        f"Feedback-Type: {feedback_type}\r\nUser-Agent: Yahoo!-Mail-Feedback/2.0\r\nVersion: 1\r\n"
        "Original-Mail-From: <ana@team.example>\r\n"
        f"Original-Rcpt-To: <{recipient}>\r\nArrival-Date: Thu, 03 Dec 2026 09:58:00 +0000\r\n"
        "Reporting-MTA: dns; mta1.arf.mail.yahoo.com\r\nSource-IP: 127.0.0.1\r\n\r\n"
        "--part\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"
        f"From: Ana <ana@team.example>\r\nTo: {recipient}\r\nSubject: Quick question about your studio\r\n"
        f"Message-ID: {message_id}\r\nDate: Thu, 03 Dec 2026 09:57:00 +0000\r\n\r\nHello there.\r\n"
        "--part--\r\n"
    ).encode()


def reports(conn, org) -> list[tuple]:
    return conn.execute(
        "SELECT feedback_type, reported_message_id, flow_id IS NOT NULL, contact_id, reporter, original_recipient"
        " FROM feedback_reports WHERE organization_id = %s ORDER BY received_at",
        (org,),
    ).fetchall()


def test_a_complaint_report_marks_the_contact_complained_once(team, database_url):
    member = f.user(team.conn)
    f.member(team.conn, team.org, member, "member")
    team.conn.execute(
        """UPDATE campaigns SET ai_settings = ai_settings || '{"breaker": {"min_sent": 1}}' WHERE id = %s""",
        (team.campaign,),
    )
    contact = team.contact_with_sent_first_message()
    report = arf(contact["email"], contact["message_id"])
    team.deliver(report, report)  # the same report twice
    counts = sync.run()
    assert counts["complaint"] == 1
    assert team.contact_state(contact) == "complained"
    assert all(row[0] == "canceled" for row in team.waiting(contact))
    assert reports(team.conn, team.org) == [
        ("abuse", contact["message_id"], True, contact["id"], "Yahoo!-Mail-Feedback/2.0", contact["email"])
    ]
    # The complaint breaker saw it: one complaint in one message of the last 7 days.
    paused = team.conn.execute(
        "SELECT status, paused_reason FROM campaigns WHERE id = %s", (team.campaign,)
    ).fetchone()
    assert paused[0] == "paused" and "1 complaints in 1 messages" in paused[1]

    # A second report of the same message (another loop) is kept; the contact complained once.
    team.deliver(arf(contact["email"], contact["message_id"]))
    assert sync.run()["complaint"] == 0
    assert len(reports(team.conn, team.org)) == 2
    assert team.contact_state(contact) == "complained"

    # The complaint rate beside Gmail's lines, as a member reads it.
    with as_role(database_url, "authenticated", member) as db:
        rows = db.execute(
            "SELECT scope, delivered_7d, complaints_7d, complaint_rate_7d, delivered_30d, complaints_30d,"
            " gmail_target_rate, gmail_limit_rate, standing_7d FROM complaint_rates ORDER BY scope"
        ).fetchall()
        assert db.execute("SELECT count(*) FROM feedback_reports").fetchone()[0] == 2
    assert [(r[0], r[1], r[2], float(r[3]), r[4], r[5], float(r[6]), float(r[7]), r[8]) for r in rows] == [
        ("domain", 1, 1, 1.0, 1, 1, 0.001, 0.003, "at or above 0.3%"),
        ("mailbox", 1, 1, 1.0, 1, 1, 0.001, 0.003, "at or above 0.3%"),
    ]


def test_a_forged_report_changes_nothing(team, dovecot, smtp):
    contact = team.contact_with_sent_first_message()
    other = Team(team.conn, dovecot, smtp)
    elsewhere = other.contact_with_sent_first_message()
    team.deliver(
        # The contact's address, but a Message-ID we never sent.
        arf(contact["email"], f"<{secrets.token_hex(8)}@team.example>"),
        # Another organization's message, reported to this organization's mailbox.
        arf(elsewhere["email"], elsewhere["message_id"]),
        # No Message-ID at all.
        arf(contact["email"], "not a message id"),
    )
    counts = sync.run()
    assert counts["complaint"] == 0
    assert team.contact_state(contact) == "pending"
    assert other.contact_state(elsewhere) == "pending"
    assert all(row[0] == "scheduled" for row in team.waiting(contact) + other.waiting(elsewhere))
    kept = reports(team.conn, team.org)
    assert len(kept) == 3 and not any(row[2] for row in kept)  # recorded, matched to nothing
    assert reports(team.conn, other.org) == []


def test_a_not_spam_report_is_kept_and_is_no_complaint(team):
    contact = team.contact_with_sent_first_message()
    team.deliver(arf(contact["email"], contact["message_id"], feedback_type="not-spam"))
    assert sync.run()["complaint"] == 0
    assert team.contact_state(contact) == "pending"
    assert reports(team.conn, team.org)[0][:3] == ("not-spam", contact["message_id"], True)
