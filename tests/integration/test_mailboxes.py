"""The organization's own mailboxes: added by an admin through the Data API's RPC,
credentials in Vault that no member can read, and send_due sending each sequence from one
mailbox under its cap and ramp, through a real SMTP server per mailbox (aiosmtpd with AUTH)."""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from psycopg import errors

from shared.discovery import fetch
from shared.sending import sender
from tests import factories as f
from tests.helpers import as_role
from tests.integration.test_send_due import ALWAYS_OPEN, status
from tests.mailserver import Logins, MailServer

PASSWORD = "p@ss:w/rd %41 secret"  # URL-encoded in the URLs below


def mailbox_url(server: MailServer, password: str = PASSWORD, user: str = "mailer") -> str:
    from urllib.parse import quote

    return f"smtp://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{server.port}"


def add_mailbox(conn, org, email, smtp_url, imap_url=None, daily_cap=50) -> str:
    """As the operator in the SQL editor: no JWT claims."""
    return conn.execute(
        "SELECT public.add_mailbox(%s, %s, %s, %s, %s)", (org, email, smtp_url, imap_url, daily_cap)
    ).fetchone()[0]


@pytest.fixture
def servers(env, database_url, empty_queue):
    """Two mailboxes' SMTP servers, each accepting its own login."""
    with contextlib.ExitStack() as stack:
        started = [
            stack.enter_context(MailServer(authenticator=Logins("mailer", PASSWORD), auth_require_tls=False))
            for _ in range(2)
        ]
        env(
            MAIL_TRANSPORT="file",
            ALLOW_PRIVATE_NETWORK="true",
            SEND_DOMAIN_SPACING_SECONDS=0,
            SEND_RATE_PER_SECOND=0,
        )
        yield started


def organization_with_mailboxes(conn, servers, caps=(50, 50), **campaign_settings):
    org = f.org(conn)
    boxes = [
        add_mailbox(conn, org, f"sender{i}@team.example", mailbox_url(server), daily_cap=cap)
        for i, (server, cap) in enumerate(zip(servers, caps, strict=True))
    ]
    campaign = f.campaign(conn, org, ai_settings={**ALWAYS_OPEN, **campaign_settings})
    return org, campaign, boxes


def due(conn, org, campaign, n, step=0):
    flows = []
    for _ in range(n):
        contact = f.contact(conn, org)
        f.link(conn, campaign, contact, status="drafted")
        flows.append(f.flow(conn, campaign, contact, step=step))
    return flows


def sent_first_message(conn, org, campaign, mailbox):
    """A contact whose sequence began through this mailbox."""
    contact = f.contact(conn, org)
    f.flow(
        conn,
        campaign,
        contact,
        status="sent",
        sent_at=datetime.now(UTC),
        mailbox_id=mailbox,
        message_id=f"<{contact}@team.example>",
    )
    return contact


# --- adding mailboxes through the Data API ---


@pytest.fixture
def team(conn):
    org = f.org(conn)
    admin, member, stranger = f.user(conn), f.user(conn), f.user(conn)
    f.member(conn, org, admin, "admin")
    f.member(conn, org, member, "member")
    f.member(conn, f.org(conn), stranger, "admin")
    # The operator checked the organization controls team.example and registered it.
    conn.execute("INSERT INTO sender_domains (organization_id, domain) VALUES (%s, 'team.example')", (org,))
    return {"org": org, "admin": admin, "member": member, "stranger": stranger}


def test_an_admin_adds_a_mailbox_and_its_password_lands_only_in_vault(conn, database_url, team):
    url = "smtps://ana%40team.example:" + "hunter2%2Fx" + "@smtp.team.example:465"
    with as_role(database_url, "authenticated", team["admin"]) as api:
        box = api.execute(
            "SELECT public.add_mailbox(%s, 'Ana@Team.example', %s, %s, 40)",
            (team["org"], url, "imaps://ana%40team.example:hunter2%2Fx@imap.team.example:993"),
        ).fetchone()[0]
        row = api.execute(
            "SELECT email, smtp_endpoint, imap_endpoint, daily_cap, active FROM mailboxes WHERE id = %s",
            (box,),
        ).fetchone()
    assert row == (
        "ana@team.example",
        "smtps://ana%40team.example@smtp.team.example:465",
        "imaps://ana%40team.example@imap.team.example:993",
        40,
        True,
    )


def committed_mailbox(conn, team, url="smtp://u:hunter2@smtp.team.example:587"):
    return add_mailbox(conn, team["org"], f"box-{team['org'].hex[:6]}@team.example", url)


@pytest.mark.parametrize("who", ["member", "stranger"])
def test_only_an_admin_of_the_organization_adds_one(database_url, team, who):
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(database_url, "authenticated", team[who]) as api,
    ):
        api.execute(
            "SELECT public.add_mailbox(%s, 'x@team.example', 'smtp://u:p@h.example:587')", (team["org"],)
        )


@pytest.mark.parametrize(
    ("email", "smtp_url", "imap_url", "cap", "message"),
    [
        ("not an address", "smtp://u:secretpw@h.example:587", None, 10, "email must be"),
        ("a@team.example", "http://u:secretpw@h.example/", None, 10, "must start with smtp"),
        ("a@team.example", "smtp://h.example:587", None, 10, "smtp_url must look like"),
        ("a@team.example", "smtp://u:secretpw@h.example:99999", None, 10, "port outside"),
        ("a@team.example", "imap://u:secretpw@h.example:143", None, 10, "must start with smtp"),
        (
            "a@team.example",
            "smtp://u:secretpw@h.example:587",
            "imap://u:secretpw@h ex:143",
            10,
            "imap_url must be",
        ),
        ("a@team.example", "smtp://u:secretpw@h.example:587\r\nX: y", None, 10, "on one line"),
        ("a@team.example", "smtp://u:secretpw@h.example:587", None, 0, "daily_cap"),
        ("a@team.example", "smtp://u:secretpw@h.example:587", None, 10001, "daily_cap"),
    ],
)
def test_bad_input_is_refused_without_echoing_the_password(
    conn, database_url, team, email, smtp_url, imap_url, cap, message
):
    before = conn.execute("SELECT count(*) FROM vault.secrets").fetchone()[0]
    with (
        pytest.raises(errors.InvalidParameterValue) as refused,
        as_role(database_url, "authenticated", team["admin"]) as api,
    ):
        api.execute(
            "SELECT public.add_mailbox(%s, %s, %s, %s, %s)", (team["org"], email, smtp_url, imap_url, cap)
        )
    assert message in str(refused.value) and "secretpw" not in str(refused.value)
    assert conn.execute("SELECT count(*) FROM vault.secrets").fetchone()[0] == before


def test_an_admin_cannot_add_a_mailbox_at_a_domain_the_organization_does_not_send_from(
    conn, database_url, team
):
    """The address goes out as From:, like a campaign's sender_email: at one of the
    organization's sender_domains only."""
    before = conn.execute("SELECT count(*) FROM vault.secrets").fetchone()[0]
    with (
        pytest.raises(errors.InvalidParameterValue) as refused,
        as_role(database_url, "authenticated", team["admin"]) as api,
    ):
        api.execute(
            "SELECT public.add_mailbox(%s, 'ceo@bigbank.example', 'smtp://u:secretpw@smtp.bigbank.example:587')",
            (team["org"],),
        )
    assert "bigbank.example is not a sending domain of this organization" in str(refused.value)
    assert conn.execute("SELECT count(*) FROM vault.secrets").fetchone()[0] == before
    assert conn.execute(
        "SELECT count(*) FROM mailboxes WHERE email = 'ceo@bigbank.example' AND organization_id = %s",
        (team["org"],),
    ).fetchone() == (0,)


def test_the_operator_adding_a_mailbox_vouches_for_its_domain(conn, team):
    add_mailbox(conn, team["org"], "ana@studio-own.example", "smtp://u:p@smtp.studio-own.example:587")
    assert conn.execute(
        "SELECT domain FROM sender_domains WHERE organization_id = %s ORDER BY domain", (team["org"],)
    ).fetchall() == [("studio-own.example",), ("team.example",)]


@pytest.mark.parametrize("who", ["member", "admin"])
@pytest.mark.parametrize("state", ["bounced", "complained"])
def test_bounce_and_complaint_states_come_only_from_the_system(conn, database_url, team, who, state):
    """Setting one trips the circuit breakers (definer rights): a member could pause a campaign
    and its mailboxes. Recording an opt-out stays theirs."""
    campaign = f.campaign(conn, team["org"])
    contact = f.contact(conn, team["org"])
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(database_url, "authenticated", team[who]) as api,
    ):
        api.execute("UPDATE contacts SET reached_status = %s WHERE id = %s", (state, contact))
    with as_role(database_url, "authenticated", team[who]) as api:
        changed = api.execute(
            "UPDATE contacts SET reached_status = 'unsubscribed', unsubscribe_requested = true WHERE id = %s",
            (contact,),
        ).rowcount
        assert changed == 1
    assert conn.execute("SELECT reached_status FROM contacts WHERE id = %s", (contact,)).fetchone() == (
        "pending",
    )
    assert conn.execute("SELECT status FROM campaigns WHERE id = %s", (campaign,)).fetchone() == ("active",)


def test_the_system_still_records_bounces(conn, team):
    contact = f.contact(conn, team["org"])
    conn.execute("UPDATE contacts SET reached_status = 'bounced' WHERE id = %s", (contact,))
    assert conn.execute("SELECT reached_status FROM contacts WHERE id = %s", (contact,)).fetchone() == (
        "bounced",
    )


def test_adding_the_same_address_again_replaces_its_credentials(conn, team):
    first = add_mailbox(conn, team["org"], "same@team.example", "smtp://u:old-password@h.example:587")
    conn.execute(
        "UPDATE mailboxes SET smtp_error = 'login refused', send_blocked_until = now() + interval '1 hour' WHERE id = %s",
        (first,),
    )
    again = add_mailbox(
        conn, team["org"], "same@team.example", "smtp://u:new-password@h.example:587", daily_cap=9
    )
    assert again == first
    secret, cap, blocked = conn.execute(
        "SELECT s.decrypted_secret, m.daily_cap, m.send_blocked_until FROM mailboxes m"
        " JOIN vault.decrypted_secrets s ON s.id = m.smtp_secret_id WHERE m.id = %s",
        (first,),
    ).fetchone()
    assert (secret, cap, blocked) == ("smtp://u:new-password@h.example:587", 9, None)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT smtp_secret_id FROM mailboxes",
        "SELECT imap_secret_id FROM mailboxes",
        "SELECT * FROM mailboxes",
        "SELECT * FROM vault.secrets",
        "SELECT * FROM vault.decrypted_secrets",
        "SELECT vault.create_secret('x')",
        "SELECT private.mailbox_url_problem('smtp://u:p@h:1', 'smtp')",
        "UPDATE mailboxes SET smtp_endpoint = 'smtp://evil.example' WHERE true",
        "UPDATE mailboxes SET imap_last_uid = 0 WHERE true",
        "INSERT INTO mailboxes (organization_id, email, smtp_endpoint, smtp_secret_id, daily_cap)"
        " VALUES (%(org)s, 'x@y.example', 'smtp://x', gen_random_uuid(), 1)",
    ],
)
@pytest.mark.parametrize("who", ["member", "admin"])
def test_members_never_reach_the_credentials(conn, database_url, team, statement, who):
    committed_mailbox(conn, team)
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(database_url, "authenticated", team[who]) as api,
    ):
        api.execute(statement, {"org": team["org"]})


def test_a_member_sees_the_mailbox_and_its_health_but_only_an_admin_pauses_it(conn, database_url, team):
    box = committed_mailbox(conn, team)
    with as_role(database_url, "authenticated", team["member"]) as api:
        seen = api.execute("SELECT email, smtp_endpoint FROM mailboxes WHERE id = %s", (box,)).fetchone()
        paused = api.execute("UPDATE mailboxes SET active = false WHERE id = %s", (box,)).rowcount
    assert seen[1] == "smtp://u@smtp.team.example:587" and paused == 0
    with as_role(database_url, "authenticated", team["stranger"]) as api:
        assert api.execute("SELECT count(*) FROM mailboxes WHERE id = %s", (box,)).fetchone() == (0,)
    with as_role(database_url, "authenticated", team["admin"]) as api:
        assert (
            api.execute("UPDATE mailboxes SET active = false, daily_cap = 5 WHERE id = %s", (box,)).rowcount
            == 1
        )
        assert api.execute("SELECT active, daily_cap FROM mailboxes WHERE id = %s", (box,)).fetchone() == (
            False,
            5,
        )


def test_removing_a_mailbox_removes_its_secrets_and_the_sequences_it_was_sending(conn, servers):
    org, campaign, (box, _) = organization_with_mailboxes(conn, servers)
    contact = sent_first_message(conn, org, campaign, box)
    follow_up = f.flow(conn, campaign, contact, step=1, when=datetime.now(UTC) + timedelta(days=2))
    secret = conn.execute("SELECT smtp_secret_id FROM mailboxes WHERE id = %s", (box,)).fetchone()[0]
    conn.execute("DELETE FROM mailboxes WHERE id = %s", (box,))
    assert conn.execute("SELECT count(*) FROM vault.secrets WHERE id = %s", (secret,)).fetchone() == (0,)
    assert status(conn, follow_up)[:2] == (
        "canceled",
        "canceled: the mailbox sending this sequence was removed",
    )


# --- sending through them ---


def test_each_sequence_is_sent_from_one_mailbox_and_follow_ups_thread_from_it(conn, servers):
    org, campaign, boxes = organization_with_mailboxes(conn, servers)
    firsts = due(conn, org, campaign, 4)
    assert sender.run()["sent"] == 4
    rows = conn.execute(
        "SELECT f.id, f.mailbox_id, m.email, f.message_id FROM outreach_flows f JOIN mailboxes m ON m.id = f.mailbox_id"
        " WHERE f.id = ANY(%s)",
        (firsts,),
    ).fetchall()
    assert len(rows) == 4 and {r[1] for r in rows} == set(boxes), "spread over both mailboxes by capacity"
    for server in servers:
        for msg, envelope in zip(server.recorder.parsed(), server.recorder.senders, strict=True):
            assert msg["From"].addresses[0].addr_spec == envelope
            assert msg["Message-ID"].endswith("@team.example>")
    # The follow-ups: each from its sequence's mailbox, threaded under the first message.
    first_id, box_id, box_email, message_id = rows[0]
    contact = conn.execute("SELECT contact_id FROM outreach_flows WHERE id = %s", (first_id,)).fetchone()[0]
    follow = f.flow(conn, campaign, contact, step=1)
    assert sender.run()["sent"] == 1
    assert (
        conn.execute("SELECT mailbox_id FROM outreach_flows WHERE id = %s", (follow,)).fetchone()[0] == box_id
    )
    server = servers[boxes.index(box_id)]
    last = server.recorder.parsed()[-1]
    assert last["In-Reply-To"] == message_id and server.recorder.senders[-1] == box_email


def test_the_mailbox_cap_holds_and_the_rest_wait_with_the_reason(conn, servers):
    org, campaign, _ = organization_with_mailboxes(conn, servers, caps=(2, 1))
    flows = due(conn, org, campaign, 5)
    result = sender.run()
    assert (result["sent"], result["deferred"]) == (3, 2)
    waiting = [status(conn, x) for x in flows if status(conn, x)[0] == "scheduled"]
    assert len(waiting) == 2
    for row in waiting:
        assert row[1].startswith("deferred: no mailbox of the campaign can send now") and row[2] == 0
    assert sender.run()["sent"] == 0, "the rolling 24 hours still count the three sent"


def test_a_follow_up_waits_for_its_own_mailbox_rather_than_switching(conn, servers):
    org, campaign, (full, _) = organization_with_mailboxes(conn, servers, caps=(1, 50))
    contact = sent_first_message(conn, org, campaign, full)
    follow_up = f.flow(conn, campaign, contact, step=1)
    assert sender.run()["sent"] == 0
    row = status(conn, follow_up)
    assert (
        row[0] == "scheduled"
        and row[1] == "deferred: the sequence's mailbox sender0@team.example reached its daily cap"
    )


def test_a_ramp_raises_a_new_mailbox_s_cap_day_by_day(conn, servers):
    org, campaign, (box, other) = organization_with_mailboxes(conn, servers, caps=(100, 100))
    conn.execute("UPDATE mailboxes SET active = false WHERE id = %s", (other,))
    # Added two days ago, 2 a day at first and 3 more each day: 8 today.
    conn.execute(
        "UPDATE mailboxes SET ramp_start = 2, ramp_step = 3, created_at = now() - interval '2 days 1 hour' WHERE id = %s",
        (box,),
    )
    due(conn, org, campaign, 10)
    assert sender.run()["sent"] == 8


def test_the_campaign_sends_only_from_the_mailboxes_it_lists(conn, servers):
    org, campaign, (first, second) = organization_with_mailboxes(
        conn, servers, mailboxes=["Sender1@team.example"]
    )
    due(conn, org, campaign, 3)
    assert sender.run()["sent"] == 3
    used = conn.execute(
        "SELECT DISTINCT mailbox_id FROM outreach_flows WHERE campaign_id = %s", (campaign,)
    ).fetchall()
    assert used == [(second,)] and len(servers[1].recorder.messages) == 3 and not servers[0].recorder.messages


def test_a_campaign_listing_no_mailbox_of_the_organization_says_so(conn, servers):
    org, campaign, _ = organization_with_mailboxes(conn, servers, mailboxes=["typo@team.example"])
    (flow,) = due(conn, org, campaign, 1)
    assert sender.run()["sent"] == 0
    assert (
        status(conn, flow)[1]
        == "deferred: none of the addresses in ai_settings.mailboxes is a mailbox of the organization"
    )


def test_a_refused_login_marks_the_mailbox_failing_and_the_other_goes_on(conn, servers, caplog, env):
    env(MAILBOX_RETRY_SECONDS=600)
    org, campaign, (good, bad) = organization_with_mailboxes(conn, servers)
    add_mailbox(conn, org, "sender1@team.example", mailbox_url(servers[1], password="wrong password 123"))
    flows = due(conn, org, campaign, 6)
    with caplog.at_level(logging.DEBUG):
        result = sender.run()
    rows = {x: status(conn, x) for x in flows}
    sent = [x for x, row in rows.items() if row[0] == "sent"]
    assert result["sent"] == len(sent) >= 1 and len(servers[0].recorder.messages) == len(sent)
    assert not servers[1].recorder.messages
    waiting = [row for row in rows.values() if row[0] == "scheduled"]
    assert waiting and all("sender1@team.example is failing" in row[1] and row[2] == 0 for row in waiting)
    error, blocked = conn.execute(
        "SELECT smtp_error, send_blocked_until - now() FROM mailboxes WHERE id = %s", (bad,)
    ).fetchone()
    assert "SMTPAuthenticationError" in error and timedelta(minutes=9) < blocked <= timedelta(minutes=10)
    # The next run sends everything waiting through the healthy mailbox.
    conn.execute(
        "UPDATE outreach_flows SET scheduled_send_time = now() WHERE id = ANY(%s) AND status = 'scheduled'",
        (flows,),
    )
    assert sender.run()["sent"] == len(waiting)
    assert conn.execute(
        "SELECT count(*) FROM outreach_flows WHERE id = ANY(%s) AND mailbox_id = %s", (flows, good)
    ).fetchone() == (6,)
    secret_words = ("wrong password", "wrong%20password", PASSWORD)
    stored = json.dumps(
        conn.execute("SELECT row_to_json(m) FROM mailboxes m WHERE organization_id = %s", (org,)).fetchall(),
        default=str,
    )
    reasons = json.dumps([status(conn, x) for x in flows], default=str)
    for word in secret_words:
        assert word not in caplog.text and word not in stored and word not in reasons


def test_a_mailbox_host_at_a_private_address_is_refused_without_allow_private_network(conn, servers, env):
    env(ALLOW_PRIVATE_NETWORK="false")
    org, campaign, boxes = organization_with_mailboxes(conn, servers)
    flows = due(conn, org, campaign, 2)
    assert sender.run()["sent"] == 0
    assert all(status(conn, x)[0] == "scheduled" for x in flows)
    errors_ = [
        r[0] for r in conn.execute("SELECT smtp_error FROM mailboxes WHERE organization_id = %s", (org,))
    ]
    assert any("not a public address" in (e or "") for e in errors_)
    assert not any(server.recorder.messages for server in servers)


def test_a_password_never_crosses_a_network_without_tls(conn, servers, monkeypatch):
    """smtp:// to a host that is not loopback requires STARTTLS: this server offers none, so
    the login is never attempted."""
    logins = Logins("mailer", PASSWORD)
    with MailServer(authenticator=logins, auth_require_tls=False) as plain:
        monkeypatch.setattr(fetch, "resolver", lambda host, port: ["127.0.0.1"])
        org = f.org(conn)
        add_mailbox(conn, org, "remote@team.example", f"smtp://mailer:plainpw@mail.team.example:{plain.port}")
        campaign = f.campaign(conn, org, ai_settings=ALWAYS_OPEN)
        (flow,) = due(conn, org, campaign, 1)
        assert sender.run()["sent"] == 0
    assert logins.attempts == [] and not plain.recorder.messages
    assert (
        "SMTPNotSupportedError"
        in conn.execute("SELECT smtp_error FROM mailboxes WHERE organization_id = %s", (org,)).fetchone()[0]
    )
    assert status(conn, flow)[0] == "scheduled"


def test_without_mailboxes_mail_transport_is_used_unchanged(conn, servers, tmp_data_dir):
    org = f.org(conn)
    campaign = f.campaign(conn, org, ai_settings=ALWAYS_OPEN)
    (flow,) = due(conn, org, campaign, 1)
    assert sender.run()["sent"] == 1
    assert status(conn, flow)[0] == "sent"
    assert conn.execute("SELECT mailbox_id FROM outreach_flows WHERE id = %s", (flow,)).fetchone() == (None,)
    assert (tmp_data_dir / "outbox" / f"{flow}.eml").exists()
