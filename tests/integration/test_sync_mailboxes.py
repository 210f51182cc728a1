"""sync_mailboxes against a real IMAP server (Dovecot): a message sent through a mailbox, then
the reply, the out-of-office answer, the bounce report and the request to stop that come back
to it, each ending in the right state; and the hostile cases of promise 11 (docs/DESIGN.md)."""

from __future__ import annotations

import glob
import json
import os
import secrets
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest

from shared.inbound import sync
from shared.sending import sender
from tests import factories as f
from tests.helpers import function_client, loopback_certificate
from tests.hostile_imap import hostile_imap
from tests.imapserver import Dovecot
from tests.integration.test_mailboxes import PASSWORD, add_mailbox, mailbox_url
from tests.integration.test_send_due import ALWAYS_OPEN, status
from tests.mailserver import Logins, MailServer


@pytest.fixture(scope="module")
def dovecot():
    with Dovecot() as server:
        yield server


@pytest.fixture
def smtp(env, database_url, empty_queue):
    with MailServer(authenticator=Logins("mailer", PASSWORD), auth_require_tls=False) as server:
        env(
            MAIL_TRANSPORT="file",
            ALLOW_PRIVATE_NETWORK="true",
            SEND_DOMAIN_SPACING_SECONDS=0,
            SEND_RATE_PER_SECOND=0,
        )
        yield server


class Team:
    """An organization with one mailbox (SMTP on aiosmtpd, IMAP on Dovecot), a campaign of
    three steps, and helpers to send its first messages and to put mail in its INBOX."""

    def __init__(self, conn, dovecot: Dovecot, smtp: MailServer):
        self.conn, self.dovecot, self.smtp = conn, dovecot, smtp
        self.org = f.org(conn)
        self.user = f"ana-{secrets.token_hex(4)}@team.example"
        dovecot.add_user(self.user, "imap pass/1")
        self.mailbox = add_mailbox(conn, self.org, self.user, mailbox_url(smtp), dovecot.url(self.user))
        self.campaign = f.campaign(conn, self.org, ai_settings=ALWAYS_OPEN)
        self.other_campaign = f.campaign(conn, self.org, ai_settings=ALWAYS_OPEN)

    def contact_with_sent_first_message(self, email: str | None = None) -> dict:
        contact = f.contact(self.conn, self.org, email or f"lead-{secrets.token_hex(3)}@greenleaf.example")
        f.link(self.conn, self.campaign, contact, status="drafted")
        first = f.flow(self.conn, self.campaign, contact, subject="Quick question about your studio")
        later = [
            f.flow(
                self.conn,
                self.campaign,
                contact,
                step=step,
                when=datetime.now(UTC) + timedelta(days=3 * step),
            )
            for step in (1, 2)
        ]
        elsewhere = f.flow(
            self.conn, self.other_campaign, contact, when=datetime.now(UTC) + timedelta(days=1)
        )
        assert sender.run()["sent"] == 1
        message_id, address = self.conn.execute(
            "SELECT f.message_id, ct.email FROM outreach_flows f JOIN contacts ct ON ct.id = f.contact_id WHERE f.id = %s",
            (first,),
        ).fetchone()
        return {
            "id": contact,
            "first": first,
            "later": [*later, elsewhere],
            "message_id": message_id,
            "email": address,
        }

    def deliver(self, *messages: bytes) -> None:
        self.dovecot.append(self.user, *messages)

    def contact_state(self, contact) -> str:
        return self.conn.execute(
            "SELECT reached_status FROM contacts WHERE id = %s", (contact["id"],)
        ).fetchone()[0]

    def waiting(self, contact) -> list[tuple]:
        return [status(self.conn, flow)[:2] for flow in contact["later"]]

    def inbound(self) -> list[tuple]:
        return self.conn.execute(
            "SELECT kind, contact_id, snippet, return_date, bounced_address FROM inbound_messages"
            " WHERE organization_id = %s ORDER BY received_at",
            (self.org,),
        ).fetchall()


@pytest.fixture
def team(conn, dovecot, smtp):
    return Team(conn, dovecot, smtp)


def reply(
    to: dict,
    body: str,
    subject: str = "Re: Quick question about your studio",
    headers: str = "",
    in_reply_to: str | None = "",
) -> bytes:
    reference = to["message_id"] if in_reply_to == "" else in_reply_to
    threading = f"In-Reply-To: {reference}\r\nReferences: {reference}\r\n" if reference else ""
    return (
        f"From: Sam <{to['email']}>\r\nTo: ana@team.example\r\nSubject: {subject}\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\nMessage-ID: <{secrets.token_hex(8)}@greenleaf.example>\r\n"
        f"{threading}{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def bounce_report(to: dict) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.greenleaf.example>\r\nTo: ana@team.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-"
        + secrets.token_hex(6)
        + "@mx.greenleaf.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.greenleaf.example\r\n\r\n"
        f"Final-Recipient: rfc822; {to['email']}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{to['email']}>: Recipient address rejected\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {to['message_id']}\r\nSubject: Quick question\r\n--B--\r\n"
    ).encode()


def test_a_reply_stops_the_contact_in_every_campaign_and_shows_in_campaign_stats(team):
    contact = team.contact_with_sent_first_message()
    team.deliver(reply(contact, "Yes, call me Thursday.\r\n\r\nOn Tue, Ana wrote:\r\n> Would a call help?"))
    counts = sync.run()
    assert counts["reply"] == 1 and counts["read"] == 1 and counts["mailboxes"] >= 1
    assert team.contact_state(contact) == "responded"
    assert all(row == ("canceled", "canceled: the contact replied") for row in team.waiting(contact))
    assert team.inbound() == [("reply", contact["id"], "Yes, call me Thursday.", None, None)]
    (held,) = team.conn.execute(
        "SELECT public.contact_data(%s, %s)", (team.org, contact["email"])
    ).fetchone()[0]
    assert [(m["kind"], m["text"]) for m in held["received"]] == [("reply", "Yes, call me Thursday.")]
    stats = team.conn.execute(
        "SELECT replied FROM campaign_stats WHERE campaign_id = %s", (team.campaign,)
    ).fetchone()
    assert stats == (1,)
    assert team.conn.execute(
        "SELECT last_synced_at IS NOT NULL, imap_error FROM mailboxes WHERE id = %s", (team.mailbox,)
    ).fetchone() == (True, None)


def test_an_out_of_office_answer_moves_the_next_message_to_the_return_date(team):
    contact = team.contact_with_sent_first_message()
    back = date.today() + timedelta(days=20)
    before = status(team.conn, contact["later"][0])
    team.deliver(
        reply(
            contact,
            f"I am away until {back.isoformat()}.",
            "Automatic reply: Quick question",
            "Auto-Submitted: auto-replied\r\n",
        )
    )
    assert sync.run()["auto_reply"] == 1
    assert team.contact_state(contact) == "pending"
    next_time = team.conn.execute(
        "SELECT scheduled_send_time FROM outreach_flows WHERE id = %s", (contact["later"][0],)
    ).fetchone()[0]
    assert next_time == datetime(back.year, back.month, back.day, tzinfo=UTC)
    assert status(team.conn, contact["later"][0])[0] == before[0] == "scheduled"
    assert team.inbound()[0][0] == "auto_reply" and team.inbound()[0][3] == back


def test_a_bounce_report_marks_the_address_bounced(team):
    contact = team.contact_with_sent_first_message()
    team.deliver(bounce_report(contact))
    assert sync.run()["bounce"] == 1
    assert team.contact_state(contact) == "bounced"
    assert all(row[0] == "canceled" for row in team.waiting(contact))
    assert team.inbound()[0][4] == contact["email"]


def test_a_report_of_a_refusal_by_policy_fails_the_message_and_blames_no_one(team):
    """Microsoft's 5.7.515, relayed back as a delivery report: our domain's authentication was
    refused, not the address. The message failed (marked for the mailbox's circuit breaker);
    the contact and their next messages are untouched."""
    contact = team.contact_with_sent_first_message()
    report = (
        bounce_report(contact)
        .replace(b"Status: 5.1.1", b"Status: 5.7.515")
        .replace(
            f"550 5.1.1 <{contact['email']}>: Recipient address rejected".encode(),
            b"550 5.7.515 Access denied, sending domain team.example does not meet the required authentication level",
        )
    )
    team.deliver(report)
    assert sync.run()["bounce"] == 1
    assert team.contact_state(contact) == "pending"
    assert all(row[0] == "scheduled" for row in team.waiting(contact))
    state, policy, reason = team.conn.execute(
        "SELECT status, refused_by_policy, status_reason FROM outreach_flows WHERE id = %s",
        (contact["first"],),
    ).fetchone()
    assert (state, policy) == ("failed", True) and reason.startswith("refused by policy")


def test_a_reply_asking_to_stop_unsubscribes_from_the_whole_organization(team):
    contact = team.contact_with_sent_first_message()
    team.deliver(reply(contact, "Please remove me from your list."))
    assert sync.run()["stop_request"] == 1
    assert team.contact_state(contact) == "unsubscribed"
    assert team.conn.execute(
        "SELECT unsubscribe_requested FROM contacts WHERE id = %s", (contact["id"],)
    ).fetchone() == (True,)


def test_a_reply_without_threading_headers_is_matched_by_sender_and_subject(team):
    contact = team.contact_with_sent_first_message()
    team.deliver(
        reply(
            contact, "Sounds interesting.", subject="RE: Quick question about your studio", in_reply_to=None
        ),
        reply(contact, "Unrelated subject from the same person.", subject="Invoice 42", in_reply_to=None),
    )
    counts = sync.run()
    assert (counts["reply"], counts["ignored"]) == (1, 1)
    assert team.contact_state(contact) == "responded"


def test_mail_that_answers_nothing_of_ours_changes_nothing(team):
    contact = team.contact_with_sent_first_message()
    newsletter = reply(contact, "Our November news", "News", "List-Id: <news.greenleaf.example>\r\n")
    stranger = reply(
        {**contact, "email": "someone@else.example"}, "Hello?", "Hi", in_reply_to="<unknown@else.example>"
    )
    team.deliver(newsletter, stranger)
    assert sync.run()["ignored"] == 2
    assert team.contact_state(contact) == "pending" and team.inbound() == []


def test_a_forged_in_reply_to_never_touches_another_organization(conn, dovecot, smtp):
    victim, attacker = Team(conn, dovecot, smtp), Team(conn, dovecot, smtp)
    target = victim.contact_with_sent_first_message()
    # Mail in the attacker's mailbox naming the victim organization's Message-ID.
    attacker.deliver(reply({**target, "email": "attacker@evil.example"}, "Stop everything"))
    attacker.deliver(reply(target, "Yes!"))
    assert sync.run()["ignored"] >= 2
    assert victim.contact_state(target) == "pending"
    assert all(row[0] == "scheduled" for row in victim.waiting(target))
    assert conn.execute(
        "SELECT count(*) FROM inbound_messages WHERE organization_id IN (%s, %s)", (victim.org, attacker.org)
    ).fetchone() == (0,)


def test_each_message_is_handled_once_across_runs_and_repeated_deliveries(team):
    contact = team.contact_with_sent_first_message()
    message = reply(contact, "Yes please.")
    team.deliver(message, message)  # the same message twice in the INBOX
    first = sync.run()
    assert (first["reply"], first["ignored"]) == (1, 1)
    team.conn.execute(
        "UPDATE mailboxes SET imap_last_uid = 0 WHERE id = %s", (team.mailbox,)
    )  # as after a crash
    again = sync.run()
    assert (again["read"], again["reply"]) == (2, 0)
    assert len(team.inbound()) == 1


def test_a_new_uidvalidity_reads_the_renumbered_inbox_without_missing_or_repeating(team):
    contact = team.contact_with_sent_first_message()
    team.deliver(
        *[
            reply({**contact, "email": f"n{i}@else.example"}, "noise", "Hi", in_reply_to=None)
            for i in range(4)
        ]
    )
    team.deliver(reply(contact, "Out of office", "Automatic reply", "Auto-Submitted: auto-replied\r\n"))
    assert sync.run()["read"] == 5
    # The server loses its index and numbers the INBOX again: the automatic reply, once UID 5,
    # is now UID 1, and a new reply gets UID 2, below the last UID seen under the old numbering.
    client = team.dovecot.client(team.user)
    client.select_folder("INBOX")
    client.delete_messages([1, 2, 3, 4])
    client.expunge()
    client.logout()
    for path in glob.glob(str(team.dovecot.root / "mail" / team.user / "dovecot*")):
        os.remove(path)
    team.deliver(reply(contact, "Actually, yes: call me."))
    team.dovecot.set_uidvalidity(team.user, 4242)
    counts = sync.run()
    assert (counts["read"], counts["reply"], counts["auto_reply"], counts["ignored"]) == (2, 1, 0, 1)
    assert team.contact_state(contact) == "responded"
    assert team.conn.execute(
        "SELECT imap_uidvalidity, imap_last_uid FROM mailboxes WHERE id = %s", (team.mailbox,)
    ).fetchone() == (4242, 2)


def test_a_wrong_imap_password_is_recorded_and_the_other_mailboxes_are_read(conn, dovecot, smtp):
    broken, healthy = Team(conn, dovecot, smtp), Team(conn, dovecot, smtp)
    add_mailbox(
        conn, broken.org, broken.user, mailbox_url(smtp), dovecot.url(broken.user, password="wrong-imap-pw")
    )
    contact = healthy.contact_with_sent_first_message()
    healthy.deliver(reply(contact, "Yes."))
    counts = sync.run()
    assert counts["failed_mailboxes"] >= 1 and counts["reply"] == 1
    error = conn.execute("SELECT imap_error FROM mailboxes WHERE id = %s", (broken.mailbox,)).fetchone()[0]
    assert "LoginError" in error and "wrong-imap-pw" not in error
    assert healthy.contact_state(contact) == "responded"


def test_hostile_mail_is_survived(team):
    contact = team.contact_with_sent_first_message()
    huge = reply(contact, "Yes, see the attached plans.\r\n" + "A" * 76 + "\r\n") + b"X" * (20 * 1024 * 1024)
    broken = [
        b'Content-Type: multipart/mixed; boundary="open"\r\n\r\n--open\r\nContent-Type: text/plain\r\n\r\nhi',
        b"From: =?utf-8?Q?broken\r\nSubject: =?x-unknown?B?SGVsbG8=?=\r\nContent-Type: text/plain; charset=nope\r\n\r\n\xe9\xe9",
        b"\x00\x01\x02 not a message at all",
    ]
    team.deliver(*broken, huge)
    counts = sync.run()
    assert counts["read"] == 4 and counts["reply"] == 1
    assert team.contact_state(contact) == "responded"


def test_the_function_answers_with_counts_and_wants_the_webhook_secret(team):
    client = function_client("sync_mailboxes")
    assert client.post("/", json={}).status_code == 401
    answer = client.post("/", json={}, headers={"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]})
    assert answer.status_code == 200 and "reply" in answer.get_json()
    assert (
        client.post(
            "/", json={"x": 1}, headers={"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]}
        ).status_code
        == 400
    )


def test_an_imap_host_at_a_private_address_is_refused_without_allow_private_network(conn, dovecot, smtp, env):
    team = Team(conn, dovecot, smtp)
    env(ALLOW_PRIVATE_NETWORK="false")
    counts = sync.run()
    error = conn.execute("SELECT imap_error FROM mailboxes WHERE id = %s", (team.mailbox,)).fetchone()[0]
    assert counts["failed_mailboxes"] >= 1 and "not a public address" in error


def test_an_imap_password_never_crosses_a_network_without_tls(conn, dovecot, smtp, monkeypatch):
    """imap:// to a host that is not loopback requires STARTTLS; this Dovecot offers none."""
    from shared.discovery import fetch

    team = Team(conn, dovecot, smtp)
    remote = dovecot.url(team.user).replace("@127.0.0.1:", "@imap.team.example:")
    add_mailbox(conn, team.org, team.user, mailbox_url(smtp), remote)
    monkeypatch.setattr(fetch, "resolver", lambda host, port: ["127.0.0.1"])
    log_before = (dovecot.root / "dovecot.log").read_text()
    sync.run()
    error = conn.execute("SELECT imap_error FROM mailboxes WHERE id = %s", (team.mailbox,)).fetchone()[0]
    assert "offers no STARTTLS" in error
    attempts = (dovecot.root / "dovecot.log").read_text()[len(log_before) :]
    assert f"user=<{team.user}>" not in attempts, "no login was attempted"


@pytest.mark.parametrize("scheme", ["imaps", "imap"])
def test_a_mailbox_is_read_over_imaps_and_over_starttls(conn, smtp, env, scheme, tmp_path_factory):
    """The IMAP connection goes to the checked address and TLS verifies the name (the
    certificate's 127.0.0.1): imaps:// from the first byte, imap:// with STARTTLS."""
    folder = tmp_path_factory.mktemp("imap-tls")
    folder.chmod(0o755)  # Dovecot reads the key as root, its login processes the certificate
    cert = loopback_certificate(folder, "outreach test imap server")
    with Dovecot(certificate=cert) as secure:
        env(SSL_CERT_FILE=str(cert[0]))
        team = Team(conn, secure, smtp)
        port = secure.tls_port if scheme == "imaps" else secure.port
        url = f"{scheme}://{team.user.replace('@', '%40')}:imap%20pass%2F1@127.0.0.1:{port}"
        add_mailbox(conn, team.org, team.user, mailbox_url(smtp), url)
        contact = team.contact_with_sent_first_message()
        team.deliver(reply(contact, "Yes, over TLS."))
        counts = sync.run()
        assert counts["reply"] == 1 and team.contact_state(contact) == "responded"


# --- isolation: one message never stops a mailbox, one mailbox never stops another ---


def sync_function() -> dict:
    """sync_mailboxes as Cloud Scheduler calls it: must answer 200."""
    answer = function_client("sync_mailboxes").post(
        "/", json={}, headers={"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def cursor(conn, mailbox) -> tuple:
    return conn.execute(
        "SELECT imap_last_uid, imap_error, sync_retry_at > now() FROM mailboxes WHERE id = %s", (mailbox,)
    ).fetchone()


def quarantined(conn, mailbox) -> list[tuple]:
    return conn.execute(
        "SELECT uid, problem, kind, contact_id, reason FROM inbound_quarantine WHERE mailbox_id = %s ORDER BY uid",
        (mailbox,),
    ).fetchall()


def test_an_out_of_office_answer_in_a_recipient_time_zone_campaign_does_not_stop_the_mailbox(team):
    """The default sending_window.timezone, "recipient", once reached AT TIME ZONE as a zone's
    name: every run died on the automatic reply, and the reply queued behind it was never read."""
    team.conn.execute(
        "UPDATE campaigns SET ai_settings = jsonb_set(ai_settings, '{sending_window,timezone}', '\"recipient\"')"
        " WHERE organization_id = %s",
        (team.org,),
    )
    away = team.contact_with_sent_first_message()
    team.conn.execute("UPDATE contacts SET timezone = 'Europe/Madrid' WHERE id = %s", (away["id"],))
    interested = team.contact_with_sent_first_message(f"lead-{secrets.token_hex(3)}@another-company.example")
    back = date.today() + timedelta(days=20)
    team.deliver(
        reply(
            away,
            f"I am away until {back.isoformat()}.",
            "Automatic reply",
            "Auto-Submitted: auto-replied\r\n",
        ),
        reply(interested, "Yes, interested: call me."),
    )
    counts = sync_function()
    assert (counts["auto_reply"], counts["reply"], counts["quarantined"]) == (1, 1, 0)
    next_time = team.conn.execute(
        "SELECT scheduled_send_time FROM outreach_flows WHERE id = %s", (away["later"][0],)
    ).fetchone()[0]
    # Midnight of the return day in the contact's own zone (Madrid, UTC+1 in winter, +2 in summer).
    midnight = datetime(back.year, back.month, back.day, tzinfo=ZoneInfo("Europe/Madrid"))
    assert next_time == midnight
    assert team.contact_state(interested) == "responded"
    assert cursor(team.conn, team.mailbox) == (2, None, None)


def test_a_message_that_cannot_be_handled_is_set_aside_and_the_cursor_moves_past_it(team, database_url):
    """A contact whose stored zone PostgreSQL does not know makes handling their automatic reply
    fail: the message is quarantined with its UID and reason, the next one is read, and once a
    person fixed the zone and asked for it, the next sync reads it again."""
    away = team.contact_with_sent_first_message()
    team.conn.execute("UPDATE contacts SET timezone = 'Mars/Olympus_Mons' WHERE id = %s", (away["id"],))
    interested = team.contact_with_sent_first_message(f"lead-{secrets.token_hex(3)}@another-company.example")
    back = date.today() + timedelta(days=20)
    team.deliver(
        reply(away, f"Back on {back.isoformat()}.", "Out of office", "Auto-Submitted: auto-replied\r\n"),
        reply(interested, "Yes please."),
    )
    counts = sync_function()
    assert (counts["quarantined"], counts["reply"]) == (1, 1)
    assert team.contact_state(interested) == "responded"
    assert cursor(team.conn, team.mailbox)[:2] == (2, None)
    ((uid, problem, kind, contact, reason),) = quarantined(team.conn, team.mailbox)
    assert (uid, problem, kind, contact) == (1, "unreadable", "auto_reply", None)
    assert "Mars/Olympus_Mons" in reason
    assert status(team.conn, away["later"][0])[0] == "scheduled"

    # A member of the organization sees it and asks for it to be read again (as PostgREST runs it).
    member = f.user(team.conn)
    f.member(team.conn, team.org, member)
    team.conn.execute("UPDATE contacts SET timezone = 'Europe/Madrid' WHERE id = %s", (away["id"],))
    with psycopg.connect(database_url) as api:
        with api.transaction():
            as_member(api, member)
            assert api.execute("SELECT uid, problem FROM inbound_quarantine").fetchall() == [
                (1, "unreadable")
            ]
            api.execute("UPDATE inbound_quarantine SET read_again = true")
    again = sync_function()
    assert again["auto_reply"] == 1
    assert quarantined(team.conn, team.mailbox) == []
    moved = team.conn.execute(
        "SELECT scheduled_send_time FROM outreach_flows WHERE id = %s", (away["later"][0],)
    ).fetchone()[0]
    assert moved == datetime(back.year, back.month, back.day, tzinfo=ZoneInfo("Europe/Madrid"))


def as_member(api, user_id) -> None:
    api.execute(
        "SELECT set_config('request.jwt.claims', %s, true)",
        (json.dumps({"sub": str(user_id), "role": "authenticated", "aud": "authenticated"}),),
    )
    api.execute("SET LOCAL ROLE authenticated")


def test_a_message_nested_three_thousand_levels_deep_does_not_stop_the_mailbox(team):
    contact = team.contact_with_sent_first_message()
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(3000)
    )
    head = reply(contact, "").partition(b"Content-Type: text/plain")[0]
    team.deliver(head + nested + b"Content-Type: text/plain\r\n\r\nhi\r\n")
    assert len(head + nested) > 170_000
    counts = sync_function()
    assert counts["reply"] == 1 and counts["quarantined"] == 0
    assert team.contact_state(contact) == "responded"
    assert cursor(team.conn, team.mailbox)[:2] == (1, None)


def test_a_server_without_uidvalidity_is_recorded_and_the_others_are_read(conn, dovecot, smtp):
    healthy = Team(conn, dovecot, smtp)
    broken = Team(conn, dovecot, smtp)
    with hostile_imap() as port:
        add_mailbox(conn, broken.org, broken.user, mailbox_url(smtp), f"imap://u:secret-pw@127.0.0.1:{port}")
        contact = healthy.contact_with_sent_first_message()
        healthy.deliver(reply(contact, "Yes."))
        answer = sync_function()
    mine = {r["mailbox_id"]: r for r in answer["results"]}
    assert (
        mine[str(broken.mailbox)]["error"]
        == "ServerError: the IMAP server named no UIDVALIDITY for the INBOX"
    )
    assert mine[str(broken.mailbox)]["retry_at"] is not None
    assert mine[str(healthy.mailbox)]["error"] is None and mine[str(healthy.mailbox)]["reply"] == 1
    assert healthy.contact_state(contact) == "responded"
    error, waiting = conn.execute(
        "SELECT imap_error, sync_retry_at > now() FROM mailboxes WHERE id = %s", (broken.mailbox,)
    ).fetchone()
    assert "UIDVALIDITY" in error and "secret-pw" not in error and waiting


def test_a_message_the_server_will_not_give_is_set_aside_and_the_others_are_read(conn, dovecot, smtp):
    """A server answering NO to any FETCH naming one damaged message: that message alone is
    quarantined with the server's words, the others are read, and the cursor moves past all."""
    team = Team(conn, dovecot, smtp)
    contact = team.contact_with_sent_first_message()
    inbox = {uid: reply(contact, f"Message {uid}: yes.") for uid in (1, 2, 3)}
    with hostile_imap(messages=inbox, damaged={2}) as port:
        add_mailbox(conn, team.org, team.user, mailbox_url(smtp), f"imap://u:p@127.0.0.1:{port}")
        answer = sync_function()
    mine = {r["mailbox_id"]: r for r in answer["results"]}[str(team.mailbox)]
    assert (mine["error"], mine["read"], mine["reply"], mine["quarantined"]) == (None, 3, 2, 1)
    ((uid, problem, _, _, reason),) = quarantined(conn, team.mailbox)
    assert (uid, problem) == (2, "unreadable") and "Internal error reading the message" in reason
    assert cursor(conn, team.mailbox)[:2] == (3, None)
    assert team.contact_state(contact) == "responded"


def test_failing_mailboxes_in_three_organizations_never_stop_a_fourth(conn, dovecot, smtp):
    """Three mailboxes whose server breaks the protocol, in three organizations, and a healthy
    fourth whose contact asks to be removed: every run answers 200, the request is honoured at
    the first, and the failing mailboxes wait their retry time instead of going first."""
    failing = [Team(conn, dovecot, smtp) for _ in range(3)]
    healthy = Team(conn, dovecot, smtp)
    with hostile_imap() as port:
        for team in failing:
            add_mailbox(conn, team.org, team.user, mailbox_url(smtp), f"imap://u:p@127.0.0.1:{port}")
        ids = {str(t.mailbox) for t in failing}
        contact = healthy.contact_with_sent_first_message()
        healthy.deliver(reply(contact, "Please remove me from your list."))
        first = sync_function()
        assert {r["mailbox_id"] for r in first["results"] if r["error"]} >= ids
        assert healthy.contact_state(contact) == "unsubscribed"
        assert all(row[0] == "canceled" for row in healthy.waiting(contact))
        # 12 simulated minutes: a run every 2 minutes; their leases long gone, their retry time not.
        for _ in range(6):
            conn.execute(
                "UPDATE mailboxes SET sync_lease_expires_at = NULL, imap_error_at = imap_error_at - interval '2 minutes',"
                " last_synced_at = last_synced_at - interval '2 minutes' WHERE id = ANY(%s)",
                ([t.mailbox for t in [*failing, healthy]],),
            )
            later = sync_function()
            assert not ids & {r["mailbox_id"] for r in later["results"]}, "a failing mailbox went again"
            assert str(healthy.mailbox) in {r["mailbox_id"] for r in later["results"]}
        # Once its retry time came, a failing mailbox is tried again and waits twice as long.
        waits = conn.execute(
            "UPDATE mailboxes SET sync_retry_at = now() - interval '1 second' WHERE id = ANY(%s)"
            " RETURNING imap_failures",
            ([t.mailbox for t in failing],),
        ).fetchall()
        assert waits == [(1,)] * 3
        again = sync_function()
        assert ids <= {r["mailbox_id"] for r in again["results"] if r["error"]}
    rows = conn.execute(
        "SELECT imap_failures, sync_retry_at - imap_error_at FROM mailboxes WHERE id = ANY(%s)",
        ([t.mailbox for t in failing],),
    ).fetchall()
    assert rows == [(2, timedelta(seconds=2 * 900))] * 3


# --- only a message's own sender, or a report quoting what we sent, changes a contact ---


def forged_report(to: dict, quoted: str | None, sender: str = "MAILER-DAEMON@attacker.example") -> bytes:
    """bounce_report's shape, from anyone, returning headers that quote `quoted` (or nothing)."""
    genuine = bounce_report(to).decode()
    genuine = genuine.replace("MAILER-DAEMON@mx.greenleaf.example", sender)
    line = f"Message-ID: {to['message_id']}\r\n"
    return genuine.replace(line, f"Message-ID: {quoted}\r\n" if quoted else "").encode()


def test_a_forged_delivery_report_is_recorded_and_changes_nothing(team):
    """A report from anyone, naming an address the mailbox wrote to, quoting none of our
    Message-IDs (or one that went to someone else): set aside for a person, the contact and
    their messages untouched, no circuit breaker tripped."""
    target = team.contact_with_sent_first_message()
    other = team.contact_with_sent_first_message(f"lead-{secrets.token_hex(3)}@elsewhere.example")
    team.deliver(
        forged_report(target, None),
        forged_report(target, other["message_id"]),
        forged_report(target, "<made-up@team.example>"),
    )
    counts = sync_function()
    assert (counts["bounce"], counts["unverified"]) == (0, 3)
    assert team.contact_state(target) == "pending"
    assert all(row[0] == "scheduled" for row in team.waiting(target))
    assert [
        (uid, problem, kind, contact)
        for uid, problem, kind, contact, _ in quarantined(team.conn, team.mailbox)
    ] == [
        (1, "unverified", "bounce", target["id"]),
        (2, "unverified", "bounce", target["id"]),
        (3, "unverified", "bounce", target["id"]),
    ]
    assert "quotes no Message-ID we sent" in quarantined(team.conn, team.mailbox)[0][4]
    assert team.conn.execute("SELECT status FROM campaigns WHERE id = %s", (team.campaign,)).fetchone() == (
        "active",
    )
    assert team.inbound() == []


def test_a_stop_request_naming_our_message_from_someone_else_is_recorded_and_changes_nothing(team):
    """In-Reply-To is a header anyone can copy: from a stranger it stops no one."""
    contact = team.contact_with_sent_first_message()
    team.deliver(
        reply({**contact, "email": "prankster@elsewhere.example"}, "Please remove me from your list."),
        reply({**contact, "email": "prankster@elsewhere.example"}, "Yes, interested!"),
    )
    counts = sync_function()
    assert (counts["stop_request"], counts["reply"], counts["unverified"]) == (0, 0, 2)
    assert team.contact_state(contact) == "pending"
    assert team.conn.execute(
        "SELECT unsubscribe_requested FROM contacts WHERE id = %s", (contact["id"],)
    ).fetchone() == (False,)
    assert all(row[0] == "scheduled" for row in team.waiting(contact))
    rows = quarantined(team.conn, team.mailbox)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("unverified", "stop_request", contact["id"]),
        ("unverified", "reply", contact["id"]),
    ]
    assert "prankster@elsewhere.example" in rows[0][4]


def test_someone_at_the_contacts_company_may_answer_for_them(team):
    company = f"studio-{secrets.token_hex(3)}.co.uk"  # a registered domain under a public suffix
    contact = team.contact_with_sent_first_message(f"sam@{company}")
    colleague = {**contact, "email": f"office@mail.{company}"}
    team.deliver(reply(colleague, "Sam left the company. Not interested, thanks."))
    assert sync_function()["stop_request"] == 1
    assert team.contact_state(contact) == "unsubscribed"


def test_at_a_public_mail_domain_only_the_address_itself_answers(team):
    contact = team.contact_with_sent_first_message(f"sam{secrets.token_hex(3)}@gmail.com")
    team.deliver(reply({**contact, "email": "someone.else@gmail.com"}, "Not interested."))
    counts = sync_function()
    assert (counts["stop_request"], counts["unverified"]) == (0, 1)
    assert team.contact_state(contact) == "pending"


def test_members_read_their_organizations_quarantine_only(team, conn, dovecot, smtp, database_url):
    contact = team.contact_with_sent_first_message()
    team.deliver(forged_report(contact, None))
    sync_function()
    outsider_team = Team(conn, dovecot, smtp)
    insider, outsider = f.user(conn), f.user(conn)
    f.member(conn, team.org, insider)
    f.member(conn, outsider_team.org, outsider, "admin")
    with psycopg.connect(database_url) as api:
        with api.transaction(force_rollback=True):
            as_member(api, insider)
            assert api.execute("SELECT count(*) FROM inbound_quarantine").fetchone() == (1,)
        with api.transaction(force_rollback=True):
            as_member(api, outsider)
            assert api.execute("SELECT count(*) FROM inbound_quarantine").fetchone() == (0,)
            assert api.execute("UPDATE inbound_quarantine SET read_again = true").rowcount == 0
        with api.transaction(force_rollback=True):
            as_member(api, insider)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                api.execute("UPDATE inbound_quarantine SET reason = 'edited', problem = 'unreadable'")


def test_a_contact_zone_that_is_no_zone_never_undoes_a_request_to_stop(team):
    """contacts.timezone is free text: a value that names no zone must not fail the reply's next
    step, and a failing next step must not undo the opt-out the message made."""
    contact = team.contact_with_sent_first_message()
    team.conn.execute("UPDATE contacts SET timezone = 'Not/AZone' WHERE id = %s", (contact["id"],))
    team.deliver(reply(contact, "Please remove me from your list."))
    counts = sync.run()
    assert counts["quarantined"] == 0
    assert team.contact_state(contact) == "unsubscribed"
    assert all(state == "canceled" for state, _ in team.waiting(contact))


def test_a_set_aside_complaint_report_is_recorded_with_its_kind(conn):
    """inbound_quarantine takes every kind sync reads, complaint reports included: a kind it
    refused would abort the whole batch and stop the mailbox being read."""
    org = f.org(conn)
    mailbox = conn.execute(
        "SELECT public.add_mailbox(%s, 'ana@kinds.example', 'smtp://u:p@smtp.kinds.example:587')", (org,)
    ).fetchone()[0]
    for uid, kind in enumerate(("reply", "auto_reply", "bounce", "stop_request", "complaint"), start=1):
        conn.execute(
            "INSERT INTO inbound_quarantine (organization_id, mailbox_id, uidvalidity, uid, problem, reason, kind)"
            " VALUES (%s, %s, 1, %s, 'unreadable', 'test', %s)",
            (org, mailbox, uid, kind),
        )
    assert (
        conn.execute("SELECT count(*) FROM inbound_quarantine WHERE mailbox_id = %s", (mailbox,)).fetchone()[
            0
        ]
        == 5
    )
