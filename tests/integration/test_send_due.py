"""send_due against a real SMTP server: headers, threading, suppression, outcomes, limits."""

from __future__ import annotations

import email.policy
import json
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from shared.core.queries import sql
from shared.inbound import tokens
from shared.sending import sender
from tests import factories as f
from tests.helpers import function_client
from tests.mailserver import MailServer

ALWAYS_OPEN = {
    "sending_window": {
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start_hour": 0,
        "end_hour": 24,
    }
}


@pytest.fixture
def smtp(env, database_url, empty_queue):
    with MailServer() as server:
        env(
            MAIL_TRANSPORT="smtp",
            SMTP_URL=server.url,
            SEND_DOMAIN_SPACING_SECONDS=0,
            SEND_RATE_PER_SECOND=0,
            SENDER_POSTAL_ADDRESS="Calle Mayor 1, 28013 Madrid, Spain",
            MAIL_FROM="Ana Pérez <ana@sender.example>",
        )
        yield server


def status(conn, flow_id):
    return conn.execute(
        "SELECT status, status_reason, attempts, message_id FROM outreach_flows WHERE id = %s", (flow_id,)
    ).fetchone()


def prospect(conn, **campaign_fields):
    campaign_fields.setdefault("ai_settings", ALWAYS_OPEN)
    return f.prospect(conn, **campaign_fields)


def test_message_carries_every_required_header(conn, smtp):
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id, subject="Quick question", body="Hello there.\n\nSam")
    assert sender.run()["sent"] == 1
    (msg,) = smtp.recorder.parsed()
    row = status(conn, flow_id)
    assert row[0] == "sent" and msg["Message-ID"] == row[3]
    assert row[3].endswith("@sender.example>")
    raw = smtp.recorder.messages[0].decode()
    token = tokens.issue(flow_id)
    assert f"List-Unsubscribe: <https://outreach.test/unsubscribe_webhook?token={token}>\r\n" in raw
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    assert tokens.verify(token) == flow_id
    assert msg["Date"] and msg["From"].addresses[0].addr_spec == "ana@sender.example"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for part in (text, html):
        assert "Calle Mayor 1, 28013 Madrid, Spain" in part
        assert f"token={token}" in part
    assert "right to object" in text


def test_follow_up_threads_under_the_first_message(conn, smtp):
    _, campaign_id, contact_id = prospect(conn)
    first = f.flow(conn, campaign_id, contact_id, 0, subject="Your studio")
    second = f.flow(conn, campaign_id, contact_id, 1, subject="ignored for replies")
    assert sender.run()["sent"] == 1  # the follow-up waits for its predecessor
    assert status(conn, second)[0] == "scheduled"
    assert sender.run()["sent"] == 1
    one, two = smtp.recorder.parsed()
    assert two["In-Reply-To"] == one["Message-ID"] == status(conn, first)[3]
    assert two["References"] == one["Message-ID"]
    assert two["Subject"] == "Re: Your studio"


def test_non_ascii_names_and_subjects_round_trip(conn, smtp):
    org_id = f.org(conn)
    campaign_id = f.campaign(conn, org_id, ai_settings={**ALWAYS_OPEN, "sender_name": "Zoë Ñúñez"})
    contact_id = f.contact(conn, org_id, "jose@ejemplo.es", name="José Müller")
    f.link(conn, campaign_id, contact_id)
    f.flow(conn, campaign_id, contact_id, subject="¿Café? Ünïcødé 🙂")
    assert sender.run()["sent"] == 1
    (msg,) = smtp.recorder.parsed()
    raw = smtp.recorder.messages[0]
    assert all(b < 128 for b in raw.split(b"\r\n\r\n")[0]), "headers must be 7-bit (RFC 2047)"
    assert msg["Subject"] == "¿Café? Ünïcødé 🙂"
    assert msg["To"].addresses[0].display_name == "José Müller"
    assert msg["From"].addresses[0].display_name == "Zoë Ñúñez"


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (
            "UPDATE contacts SET unsubscribe_requested = true WHERE id = %(contact)s",
            "unsubscribed from everything",
        ),
        ("UPDATE contacts SET reached_status = 'bounced' WHERE id = %(contact)s", "bounced"),
        ("UPDATE contacts SET reached_status = 'complained' WHERE id = %(contact)s", "complained"),
        ("UPDATE contacts SET reached_status = 'responded' WHERE id = %(contact)s", "replied"),
        (
            "INSERT INTO campaign_unsubscribes (campaign_id, contact_id) VALUES (%(campaign)s, %(contact)s)",
            "unsubscribed from this campaign",
        ),
    ],
)
def test_suppressed_contact_gets_nothing(conn, smtp, setup, reason):
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id)
    conn.execute(setup, {"contact": contact_id, "campaign": campaign_id})
    result = sender.run()
    assert result["sent"] == 0 and result["canceled"] == 1
    assert smtp.recorder.messages == []
    row = status(conn, flow_id)
    assert row[0] == "canceled" and reason in row[1]


def test_unsubscribe_committed_between_claim_and_send_stops_the_message(
    conn, smtp, monkeypatch, database_url
):
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id)
    real_compose = sender.message.compose

    def compose_then_unsubscribe(ctx, message_id):
        # The row is already claimed ('sending'); the person unsubscribes now, from another connection.
        with psycopg.connect(database_url, autocommit=True) as other:
            assert other.execute(
                "SELECT status FROM outreach_flows WHERE id = %s", (flow_id,)
            ).fetchone() == ("sending",)
            other.execute("UPDATE contacts SET unsubscribe_requested = true WHERE id = %s", (contact_id,))
        return real_compose(ctx, message_id)

    monkeypatch.setattr(sender.message, "compose", compose_then_unsubscribe)
    result = sender.run()
    assert result == {**result, "sent": 0, "canceled": 1}
    assert smtp.recorder.messages == []
    assert status(conn, flow_id)[0] == "canceled"


def test_temporary_failure_then_success(conn, smtp):
    smtp.behaviour.data_replies = ["451 4.3.0 try again later"]
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id)
    assert sender.run()["deferred"] == 1
    state, reason, attempts, message_id = status(conn, flow_id)
    assert (state, attempts, message_id) == ("scheduled", 1, None) and "451" in reason
    later = conn.execute(
        "SELECT scheduled_send_time > now() FROM outreach_flows WHERE id = %s", (flow_id,)
    ).fetchone()
    assert later == (True,)
    conn.execute("UPDATE outreach_flows SET scheduled_send_time = now() WHERE id = %s", (flow_id,))
    assert sender.run()["sent"] == 1
    assert status(conn, flow_id)[:3] == ("sent", None, 2)
    assert len(smtp.recorder.messages) == 1


def test_temporary_failures_are_bounded(conn, smtp, env):
    env(SEND_MAX_ATTEMPTS=2)
    smtp.behaviour.data_replies = ["421 4.7.0 busy"] * 5
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id)
    sender.run()
    conn.execute("UPDATE outreach_flows SET scheduled_send_time = now() WHERE id = %s", (flow_id,))
    assert sender.run()["failed"] == 1
    state, reason, attempts, _ = status(conn, flow_id)
    assert state == "failed" and attempts == 2 and "gave up after 2 attempts" in reason


def test_hard_bounce_marks_contact_and_cancels_the_rest(conn, smtp):
    org_id, campaign_id, contact_id = prospect(conn)
    other_campaign = f.campaign(conn, org_id, ai_settings=ALWAYS_OPEN)
    f.link(conn, other_campaign, contact_id)
    address = conn.execute("SELECT email FROM contacts WHERE id = %s", (contact_id,)).fetchone()[0]
    smtp.behaviour.rcpt[address] = "550 5.1.1 <nobody>: user unknown"
    first = f.flow(conn, campaign_id, contact_id, 0)
    later = f.flow(conn, campaign_id, contact_id, 1, when=datetime.now(UTC) + timedelta(days=3))
    elsewhere = f.flow(conn, other_campaign, contact_id, 0, when=datetime.now(UTC) + timedelta(days=1))
    assert sender.run()["failed"] == 1
    assert status(conn, first)[0] == "failed" and "550 5.1.1" in status(conn, first)[1]
    assert conn.execute("SELECT reached_status FROM contacts WHERE id = %s", (contact_id,)).fetchone() == (
        "bounced",
    )
    assert status(conn, later)[0] == "canceled" and status(conn, elsewhere)[0] == "canceled"
    assert smtp.recorder.messages == []


def test_sender_refused_is_not_blamed_on_the_contact(conn, smtp):
    smtp.behaviour.data_replies = ["554 5.7.1 message content rejected"]
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id)
    assert sender.run()["failed"] == 1
    assert status(conn, flow_id)[0] == "failed"
    assert conn.execute("SELECT reached_status FROM contacts WHERE id = %s", (contact_id,)).fetchone() == (
        "pending",
    )


@pytest.mark.parametrize(
    ("stage", "answer", "outcome"),
    [
        # Our sending IP refused at RCPT (Microsoft): policy, not the address.
        ("rcpt", "550 5.7.606 Access denied, banned sending IP [192.0.2.1]", "refused by policy"),
        # Our sending domain's authentication (Microsoft, Gmail): not the address.
        (
            "data",
            "550 5.7.515 Access denied, sending domain team.example does not meet the required"
            " authentication level",
            "refused by policy",
        ),
        (
            "data",
            "550 5.7.26 This mail has been blocked because the sender is unauthenticated.",
            "refused by policy",
        ),
        # Our own address refused (5.1.8 is the sender's): not the contact's.
        ("mail", "553 5.1.8 <ana@team.example>: Sender address rejected: Domain not found", "refused"),
        # The address itself, answered after the data: a hard bounce.
        ("data", "550 5.2.1 The email account that you tried to reach is disabled", "hard bounce"),
        # Refused at RCPT without an enhanced code: the address, as before.
        ("rcpt", "550 No such user here", "hard bounce"),
    ],
)
def test_a_refusal_blames_the_contact_only_when_it_names_the_address(conn, smtp, stage, answer, outcome):
    _, campaign_id, contact_id = prospect(conn)
    address = conn.execute("SELECT email FROM contacts WHERE id = %s", (contact_id,)).fetchone()[0]
    if stage == "rcpt":
        smtp.behaviour.rcpt[address] = answer
    elif stage == "mail":
        smtp.behaviour.mail_from = answer
    else:
        smtp.behaviour.data_replies = [answer]
    flow_id = f.flow(conn, campaign_id, contact_id)
    assert sender.run()["failed"] == 1
    state, reason = status(conn, flow_id)[:2]
    assert state == "failed" and answer.split(" ", 1)[1][:20] in reason
    assert reason.split(":")[0] == outcome
    policy = conn.execute(
        "SELECT refused_by_policy FROM outreach_flows WHERE id = %s", (flow_id,)
    ).fetchone()[0]
    assert policy == (outcome == "refused by policy")
    reached = conn.execute("SELECT reached_status FROM contacts WHERE id = %s", (contact_id,)).fetchone()[0]
    assert reached == ("bounced" if outcome == "hard bounce" else "pending")


def test_connection_lost_after_data_is_outcome_unknown_and_never_resent(conn, smtp):
    smtp.behaviour.drop_after_data = 1
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id)
    assert sender.run()["failed"] == 1
    state, reason, _, _ = status(conn, flow_id)
    assert state == "failed" and reason.startswith("outcome unknown")
    sender.run()
    sender.run()
    assert len(smtp.recorder.messages) == 1


def test_server_down_defers_instead_of_failing(conn, env, empty_queue):
    env(
        MAIL_TRANSPORT="smtp",
        SMTP_URL="smtp://127.0.0.1:1?starttls=off&timeout=2",
        SEND_RATE_PER_SECOND=0,
        SEND_DOMAIN_SPACING_SECONDS=0,
    )
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id)
    assert sender.run()["deferred"] == 1
    assert status(conn, flow_id)[0] == "scheduled"


def test_campaign_daily_cap_defers_the_rest(conn, smtp):
    org_id = f.org(conn)
    campaign_id = f.campaign(conn, org_id, ai_settings={**ALWAYS_OPEN, "daily_cap": 2})
    flows = []
    for _ in range(5):
        contact_id = f.contact(conn, org_id)
        f.link(conn, campaign_id, contact_id)
        flows.append(f.flow(conn, campaign_id, contact_id))
    result = sender.run()
    assert result["sent"] == 2 and result["deferred"] == 3
    assert sender.run()["sent"] == 0  # the cap is rolling over 24 hours
    reasons = {status(conn, fl)[1] for fl in flows if status(conn, fl)[0] == "scheduled"}
    assert reasons == {"deferred: the campaign's daily cap is reached"}


def test_organization_daily_cap_spans_campaigns(conn, smtp):
    org_id = f.org(conn)
    conn.execute("UPDATE organizations SET daily_send_cap = 3 WHERE id = %s", (org_id,))
    for _ in range(2):
        campaign_id = f.campaign(conn, org_id, ai_settings=ALWAYS_OPEN)
        for _ in range(3):
            contact_id = f.contact(conn, org_id)
            f.link(conn, campaign_id, contact_id)
            f.flow(conn, campaign_id, contact_id)
    assert sender.run()["sent"] == 3
    assert len(smtp.recorder.messages) == 3


def test_recipient_domain_spacing(conn, smtp, env):
    env(SEND_DOMAIN_SPACING_SECONDS=3600)
    org_id = f.org(conn)
    campaign_id = f.campaign(conn, org_id, ai_settings=ALWAYS_OPEN)
    for i in range(3):
        contact_id = f.contact(conn, org_id, f"person{i}@same-domain-{org_id.hex[:6]}.example")
        f.link(conn, campaign_id, contact_id)
        f.flow(conn, campaign_id, contact_id)
    other = f.contact(conn, org_id, f"someone@other-{org_id.hex[:6]}.example")
    f.link(conn, campaign_id, other)
    f.flow(conn, campaign_id, other)
    assert sender.run()["sent"] == 2  # one per domain
    assert sender.run()["sent"] == 0  # the domain waits its spacing


def test_outside_the_window_is_deferred_to_the_next_opening(conn, smtp):
    now = datetime.now(UTC)
    closed_today = [
        d
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        if d != ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    ]
    window = {"sending_window": {"days": closed_today, "start_hour": 0, "end_hour": 24, "timezone": "UTC"}}
    _, campaign_id, contact_id = prospect(conn, ai_settings=window)
    flow_id = f.flow(conn, campaign_id, contact_id)
    assert sender.run()["deferred"] == 1
    when, state, attempts = conn.execute(
        "SELECT scheduled_send_time, status, attempts FROM outreach_flows WHERE id = %s", (flow_id,)
    ).fetchone()
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert (state, attempts, when) == ("scheduled", 0, tomorrow)
    assert smtp.recorder.messages == []


def test_paused_campaign_waits_and_completed_campaign_is_canceled(conn, smtp):
    _, paused, contact_a = prospect(conn, status="paused")
    _, done, contact_b = prospect(conn, status="completed")
    waiting = f.flow(conn, paused, contact_a)
    gone = f.flow(conn, done, contact_b)
    sender.run()
    assert status(conn, waiting)[0] == "scheduled"
    assert status(conn, gone)[:2] == ("canceled", "canceled: the campaign is completed")
    assert smtp.recorder.messages == []


@pytest.mark.parametrize("previous", ["failed", "canceled"])
def test_follow_up_of_a_failed_step_is_canceled(conn, smtp, previous):
    _, campaign_id, contact_id = prospect(conn)
    f.flow(conn, campaign_id, contact_id, 0, status=previous)
    follow_up = f.flow(conn, campaign_id, contact_id, 1)
    sender.run()
    assert status(conn, follow_up)[:2] == (
        "canceled",
        "canceled: an earlier step of the sequence was not sent",
    )


def test_draft_is_never_sent(conn, smtp):
    _, campaign_id, contact_id = prospect(conn)
    draft = f.flow(conn, campaign_id, contact_id, status="draft")
    sender.run()
    assert status(conn, draft)[0] == "draft" and smtp.recorder.messages == []


def test_expired_lease_settles_without_a_second_send(conn, smtp):
    _, campaign_id, contact_id = prospect(conn)
    started = f.flow(conn, campaign_id, contact_id, 0, status="sending", message_id="<m1@sender.example>")
    never_started = f.flow(
        conn, campaign_id, f.contact(conn, f.campaign_org(conn, campaign_id)), 0, status="sending"
    )
    conn.execute(
        "UPDATE outreach_flows SET lease_expires_at = now() - interval '1 second', attempts = 1 WHERE id IN (%s, %s)",
        (started, never_started),
    )
    conn.execute(
        "INSERT INTO campaign_contacts (campaign_id, contact_id) SELECT campaign_id, contact_id FROM outreach_flows"
        " WHERE id = %s ON CONFLICT DO NOTHING",
        (never_started,),
    )
    sender.run()
    assert status(conn, started)[:2] == (
        "failed",
        "outcome unknown: the sender stopped while sending; not sent again",
    )
    assert status(conn, never_started)[0] == "sent"  # requeued, then sent in the same run
    assert len(smtp.recorder.messages) == 1


def test_claim_taken_over_after_the_lease_ran_out_is_not_sent_by_the_slow_instance(
    conn, smtp, monkeypatch, database_url
):
    """Instance A claims a row and stalls past its lease; the reaper requeues the row and
    instance B claims it. A must neither send it nor touch B's claim."""
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id)
    real_compose = sender.message.compose

    def stall_past_the_lease(ctx, message_id):
        with psycopg.connect(database_url, autocommit=True) as other:
            other.execute(
                "UPDATE outreach_flows SET lease_expires_at = now() - interval '1 second' WHERE id = %s",
                (flow_id,),
            )
            with other.transaction():
                assert other.execute(sql("reap-expired-leases"), {"max_attempts": 5}).fetchall() == [
                    (flow_id, "scheduled")
                ]
            with other.transaction():
                other.execute(sql("lock-claims"))
                claim = other.execute(
                    sql("claim-due-flows"), dict(limit=10, scan=40, lease=300, spacing=0, cap_retry=900)
                ).fetchone()
            assert claim[0] == [flow_id]
        return real_compose(ctx, message_id)

    monkeypatch.setattr(sender.message, "compose", stall_past_the_lease)
    result = sender.run()
    assert result == {**result, "sent": 0, "lost": 1, "deferred": 0, "canceled": 0}
    assert smtp.recorder.messages == []
    assert status(conn, flow_id) == ("sending", None, 2, None)  # B's claim, untouched


def test_address_smtp_cannot_carry_fails_with_the_reason_and_the_batch_goes_on(conn, smtp):
    org_id, campaign_id, contact_id = prospect(conn)
    fine = f.flow(conn, campaign_id, contact_id)
    other = f.contact(conn, org_id, "josé@ejemplo.es")
    f.link(conn, campaign_id, other)
    unsendable = f.flow(conn, campaign_id, other)
    result = sender.run()
    assert result == {**result, "sent": 1, "failed": 1, "errors": 0}
    assert status(conn, fine)[0] == "sent"
    state, reason, _, message_id = status(conn, unsendable)
    assert state == "failed" and "SMTPUTF8" in reason and message_id is None
    assert len(smtp.recorder.messages) == 1


def test_database_connection_lost_mid_batch_reconnects_and_loses_no_record(conn, smtp, env, monkeypatch):
    """The sending thread's connection is killed between two sends: the message in hand is left
    to the lease reaper (its Message-ID never stored), the one accepted just before is still
    recorded as sent, and the rest of the batch goes out on a new connection."""
    env(SMTP_POOL_SIZE=1)
    _, campaign_id, _ = prospect(conn)
    org_id = f.campaign_org(conn, campaign_id)
    flows = []
    for minutes in (3, 2, 1):
        contact_id = f.contact(conn, org_id)
        f.link(conn, campaign_id, contact_id)
        flows.append(
            f.flow(conn, campaign_id, contact_id, when=datetime.now(UTC) - timedelta(minutes=minutes))
        )
    real_compose = sender.message.compose
    composed = []

    def compose_and_cut_the_second(ctx, message_id):
        composed.append(ctx.id)
        if len(composed) == 2:
            killed = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchall()
            assert killed
        return real_compose(ctx, message_id)

    monkeypatch.setattr(sender.message, "compose", compose_and_cut_the_second)
    result = sender.run()
    assert composed == flows
    assert result == {**result, "sent": 2, "errors": 1}
    assert status(conn, flows[0])[0] == "sent"
    assert status(conn, flows[1])[0] == "sending" and status(conn, flows[1])[3] is None
    assert status(conn, flows[2])[0] == "sent"
    conn.execute(
        "UPDATE outreach_flows SET lease_expires_at = now() - interval '1 second' WHERE id = %s", (flows[1],)
    )
    monkeypatch.setattr(sender.message, "compose", real_compose)
    assert sender.run()["sent"] == 1
    assert status(conn, flows[1])[0] == "sent"
    assert sorted(smtp.recorder.message_ids().values()) == [1, 1, 1]


def test_live_lease_is_left_alone(conn, smtp):
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id, status="sending")
    conn.execute(
        "UPDATE outreach_flows SET lease_expires_at = now() + interval '5 minutes' WHERE id = %s", (flow_id,)
    )
    sender.run()
    assert status(conn, flow_id)[0] == "sending" and smtp.recorder.messages == []


def test_concurrent_threads_claim_disjoint_rows(conn, smtp):
    org_id = f.org(conn)
    conn.execute("UPDATE organizations SET daily_send_cap = 100000 WHERE id = %s", (org_id,))
    campaign_id = f.campaign(conn, org_id, ai_settings={**ALWAYS_OPEN, "daily_cap": 10000})
    for _ in range(120):
        contact_id = f.contact(conn, org_id)
        f.link(conn, campaign_id, contact_id)
        f.flow(conn, campaign_id, contact_id)
    threads = [threading.Thread(target=lambda: [sender.run(limit=10) for _ in range(6)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sender.run()
    counts = smtp.recorder.message_ids()
    assert len(counts) == 120 and set(counts.values()) == {1}


def test_ses_transport_through_moto(conn, env, empty_queue):
    boto3 = pytest.importorskip("boto3")
    from moto import mock_aws

    env(
        MAIL_TRANSPORT="ses",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        SEND_RATE_PER_SECOND=0,
        SEND_DOMAIN_SPACING_SECONDS=0,
        MAIL_FROM="Ana <ana@sender.example>",
    )
    with mock_aws():
        client = boto3.client("sesv2", region_name="eu-west-1")
        client.create_email_identity(EmailIdentity="sender.example")
        _, campaign_id, contact_id = prospect(conn)
        flow_id = f.flow(conn, campaign_id, contact_id, subject="Via SES")
        assert sender.run()["sent"] == 1
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        sent = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages
        assert len(sent) == 1
        raw = sent[0].raw_data
        msg = email.message_from_string(raw, policy=email.policy.default)
        assert msg["Message-ID"] == status(conn, flow_id)[3]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_send_due_endpoint(conn, smtp):
    client = function_client("send_due")
    assert client.post("/", data="{}", content_type="application/json").status_code == 401
    secret = __import__("os").environ["WEBHOOK_SECRET"]
    headers = {"X-Webhook-Secret": secret}
    _, campaign_id, contact_id = prospect(conn)
    f.flow(conn, campaign_id, contact_id)
    response = client.post("/", data="", headers=headers)
    assert response.status_code == 200 and response.get_json()["sent"] == 1
    bad = client.post(
        "/", data=json.dumps({"limit": "all"}), headers=headers, content_type="application/json"
    )
    assert bad.status_code == 400
    bad = client.post(
        "/", data=json.dumps({"limit": 10, "x": 1}), headers=headers, content_type="application/json"
    )
    assert bad.status_code == 400


def test_one_busy_domain_does_not_crowd_out_the_others(conn, smtp, env):
    env(SEND_DOMAIN_SPACING_SECONDS=60)
    org_id = f.org(conn)
    campaign_id = f.campaign(conn, org_id, ai_settings={**ALWAYS_OPEN, "daily_cap": 10000})
    conn.execute("UPDATE organizations SET daily_send_cap = 100000 WHERE id = %s", (org_id,))
    early = datetime.now(UTC) - timedelta(hours=1)
    for i in range(30):  # thirty messages to one domain, all older than the others
        contact_id = f.contact(conn, org_id, f"p{i}@busy-{org_id.hex[:6]}.example")
        f.link(conn, campaign_id, contact_id)
        f.flow(conn, campaign_id, contact_id, when=early)
    for i in range(3):
        contact_id = f.contact(conn, org_id, f"x@quiet{i}-{org_id.hex[:6]}.example")
        f.link(conn, campaign_id, contact_id)
        f.flow(conn, campaign_id, contact_id)
    # Each run scans 4 x limit = 8 rows from the head of the queue, where the busy domain's
    # thirty wait. Held rows must leave the head, or the quiet domains would never be reached.
    sent = sum(sender.run(limit=2)["sent"] for _ in range(6))
    assert sent == 4  # one busy message, then the three quiet domains
    quiet = conn.execute(
        "SELECT count(*) FROM outreach_flows f JOIN contacts c ON c.id = f.contact_id"
        " WHERE f.campaign_id = %s AND f.status = 'sent' AND c.email LIKE 'x@quiet%%'",
        (campaign_id,),
    ).fetchone()
    assert quiet == (3,)
    waiting = conn.execute(
        "SELECT min(scheduled_send_time) > now() + interval '50 seconds', count(*) FROM outreach_flows"
        " WHERE campaign_id = %s AND status = 'scheduled'",
        (campaign_id,),
    ).fetchone()
    assert waiting == (True, 29)
