"""Signed webhooks to the organization's tools: endpoints (who may add, read and remove them),
the outbox the database's triggers write, and deliver_events against real HTTP receivers on
loopback, each signature checked with the Standard Webhooks library."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections import Counter

import psycopg
import pytest
from psycopg import errors
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from shared.discovery import fetch
from shared.events import deliver
from tests import factories
from tests.helpers import as_role, function_client, http_server


@pytest.fixture
def team(conn):
    organization = factories.org(conn)
    people = {"admin": factories.user(conn), "member": factories.user(conn), "stranger": factories.user(conn)}
    factories.member(conn, organization, people["admin"], "admin")
    factories.member(conn, organization, people["member"])
    factories.member(conn, factories.org(conn), people["stranger"], "admin")
    return {"org": organization, **people}


@pytest.fixture
def outbox(conn, env):
    """Only this test's endpoints are delivered to: every earlier one is paused. Deliveries
    may reach loopback, and retries are due at once."""
    conn.execute("UPDATE webhook_endpoints SET active = false")
    env(ALLOW_PRIVATE_NETWORK="true", EVENTS_RETRY_BASE_SECONDS="0", EVENTS_TIMEOUT="5")


class Receiver:
    """Records every request; answers `statuses` in turn, then 200."""

    def __init__(self, *statuses: int, headers: dict | None = None, hold: threading.Event | None = None):
        self.statuses = list(statuses)
        self.extra = headers or {}
        self.hold = hold
        self.requests: list[tuple[dict, bytes]] = []
        self.lock = threading.Lock()
        self.waiting = 0
        self.most_waiting = 0

    def __call__(self, handler):
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        with self.lock:
            self.requests.append(({k.lower(): v for k, v in handler.headers.items()}, body))
            status = self.statuses.pop(0) if self.statuses else 200
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
        if self.hold is not None:
            self.hold.wait(30)
        with self.lock:
            self.waiting -= 1
        return status, self.extra, b"{}"

    def verified(self, secret: str) -> list[dict]:
        return [Webhook(secret).verify(body, headers) for headers, body in self.requests]


def add_webhook(conn, org, url, events=("reply.received",)) -> tuple[str, str]:
    row = conn.execute(
        "SELECT id, secret FROM public.add_webhook(%s, %s, %s)", (org, url, list(events))
    ).fetchone()
    return str(row[0]), row[1]


def reply(conn, org, campaign_id, contact_id, snippet="Sounds good, call me on Monday.") -> None:
    conn.execute(
        "INSERT INTO inbound_messages (organization_id, contact_id, campaign_id, kind, from_address, subject,"
        " snippet, fingerprint) VALUES (%s, %s, %s, 'reply', 'lead@prospect.example', 'Re: hello', %s,"
        " gen_random_uuid()::text)",
        (org, contact_id, campaign_id, snippet),
    )


def deliveries(conn, endpoint_id) -> list[dict]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT * FROM webhook_deliveries WHERE endpoint_id = %s ORDER BY created_at", (endpoint_id,)
        ).fetchall()


def deliver_until_settled(conn, endpoint_id, rounds=10) -> None:
    for _ in range(rounds):
        deliver.run()
        if all(d["status"] != "pending" for d in deliveries(conn, endpoint_id)):
            return


# Endpoints: who may add, read, pause and remove them.


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(database_url, conn, team):
    with as_role(database_url, "authenticated", team["admin"]) as api:
        endpoint_id, secret = api.execute(
            "SELECT id, secret FROM public.add_webhook(%s, 'https://hooks.team.example/outreach', %s)",
            (team["org"], ["reply.received", "campaign.paused"]),
        ).fetchone()
        assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
        Webhook(secret)  # the library takes it as it is
        listed = api.execute("SELECT id, url, events, active FROM webhook_endpoints").fetchall()
        assert listed == [
            (endpoint_id, "https://hooks.team.example/outreach", ["campaign.paused", "reply.received"], True)
        ]
        # Never again: not in any column an admin reads, and Vault is not theirs.
        api.execute("SAVEPOINT s")
        with pytest.raises(errors.InsufficientPrivilege):
            api.execute("SELECT secret_id FROM webhook_endpoints")
        api.execute("ROLLBACK TO SAVEPOINT s")
        with pytest.raises(errors.InsufficientPrivilege):
            api.execute("SELECT * FROM vault.decrypted_secrets")


@pytest.mark.parametrize("who", ["member", "stranger"])
def test_members_and_strangers_cannot_add_endpoints(database_url, team, who):
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(database_url, "authenticated", team[who]) as api,
    ):
        api.execute(
            "SELECT * FROM public.add_webhook(%s, 'https://hooks.team.example/', %s)",
            (team["org"], ["reply.received"]),
        )


def test_members_list_endpoints_without_secrets_and_only_admins_pause_or_remove(database_url, conn, team):
    endpoint_id, secret = add_webhook(conn, team["org"], "https://hooks.team.example/a")
    with as_role(database_url, "authenticated", team["member"]) as api:
        listed = api.execute("SELECT id::text, url FROM webhook_endpoints").fetchall()
        assert listed == [(endpoint_id, "https://hooks.team.example/a")]
        api.execute("SAVEPOINT s")
        with pytest.raises(errors.InsufficientPrivilege):
            api.execute("SELECT secret_id FROM webhook_endpoints")
        api.execute("ROLLBACK TO SAVEPOINT s")
        # Row level security: a member's update or delete touches nothing.
        assert api.execute("UPDATE webhook_endpoints SET active = false RETURNING id").fetchall() == []
        assert api.execute("DELETE FROM webhook_endpoints RETURNING id").fetchall() == []
    with as_role(database_url, "authenticated", team["stranger"]) as api:
        assert api.execute("SELECT id FROM webhook_endpoints").fetchall() == []
    with as_role(database_url, "authenticated", team["admin"]) as api:
        assert len(api.execute("UPDATE webhook_endpoints SET active = false RETURNING id").fetchall()) == 1
        api.execute("SAVEPOINT s")
        with pytest.raises(errors.InsufficientPrivilege):  # the URL is set once, with its secret
            api.execute("UPDATE webhook_endpoints SET url = 'https://elsewhere.example/'")
        api.execute("ROLLBACK TO SAVEPOINT s")
    secret_id = conn.execute(
        "SELECT secret_id FROM webhook_endpoints WHERE id = %s", (endpoint_id,)
    ).fetchone()[0]
    with psycopg.connect(database_url) as c:
        c.execute(
            "SELECT set_config('request.jwt.claims', %s, false)",
            (json.dumps({"role": "authenticated", "sub": str(team["admin"])}),),
        )
        c.execute("SET ROLE authenticated")
        assert c.execute("DELETE FROM webhook_endpoints RETURNING id").fetchall() != []
        c.commit()
    # Its secret went with it.
    assert conn.execute("SELECT count(*) FROM vault.secrets WHERE id = %s", (secret_id,)).fetchone()[0] == 0


@pytest.mark.parametrize(
    ("url", "events", "message"),
    [
        ("ftp://hooks.team.example/", ["reply.received"], "https://"),
        ("https://user:pw@hooks.team.example/", ["reply.received"], "user name or password"),
        ("https://hooks.team.example/a b", ["reply.received"], "one line"),
        ("https://hooks.team.example:70000/", ["reply.received"], "port"),
        ("not a url", ["reply.received"], "https://"),
        ("https://hooks.team.example/", ["reply.recieved"], "unknown event reply.recieved"),
        ("https://hooks.team.example/", [], "events must list"),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(database_url, conn, team, url, events, message):
    with (
        pytest.raises(errors.InvalidParameterValue) as refused,
        as_role(database_url, "authenticated", team["admin"]) as api,
    ):
        api.execute("SELECT * FROM public.add_webhook(%s, %s, %s)", (team["org"], url, events))
    assert message in str(refused.value)
    if "pw" in url:
        assert "pw" not in str(refused.value)
    assert (
        conn.execute(
            "SELECT count(*) FROM webhook_endpoints WHERE organization_id = %s", (team["org"],)
        ).fetchone()[0]
        == 0
    )


# The outbox: which changes write which events.


def test_each_change_writes_its_event_for_subscribed_endpoints_only(conn):
    org, campaign_id, contact_id = factories.prospect(conn)
    everything, _ = add_webhook(
        conn,
        org,
        "https://hooks.team.example/all",
        [
            "reply.received",
            "contact.bounced",
            "contact.unsubscribed",
            "campaign.paused",
            "mailbox.failing",
            "draft.awaiting_review",
        ],
    )
    replies_only, _ = add_webhook(conn, org, "https://hooks.team.example/replies", ["reply.received"])
    paused, _ = add_webhook(conn, org, "https://hooks.team.example/paused", ["reply.received"])
    conn.execute("UPDATE webhook_endpoints SET active = false WHERE id = %s", (paused,))

    reply(conn, org, campaign_id, contact_id, "Yes please. " * 200)
    conn.execute(
        "INSERT INTO inbound_messages (organization_id, contact_id, kind, fingerprint) VALUES (%s, %s, 'auto_reply', 'x1')",
        (org, contact_id),
    )
    bounced = factories.contact(conn, org)
    conn.execute("UPDATE contacts SET reached_status = 'bounced' WHERE id = %s", (bounced,))
    conn.execute(
        "UPDATE contacts SET unsubscribe_requested = true, unsubscribe_reason = 'link' WHERE id = %s",
        (contact_id,),
    )
    conn.execute(
        "UPDATE contacts SET reached_status = 'unsubscribed' WHERE id = %s", (contact_id,)
    )  # not twice
    other = factories.contact(conn, org)
    conn.execute(
        "INSERT INTO campaign_unsubscribes (campaign_id, contact_id, reason) VALUES (%s, %s, 'not now')",
        (campaign_id, other),
    )
    conn.execute(
        "UPDATE campaigns SET status = 'paused', paused_reason = 'bounce rate 6%% over 20 attempts' WHERE id = %s",
        (campaign_id,),
    )
    mailbox = conn.execute(
        "SELECT public.add_mailbox(%s, 'sam@team.example', 'smtps://sam:pw@smtp.team.example:465')", (org,)
    ).fetchone()[0]
    conn.execute("UPDATE mailboxes SET smtp_error = 'login refused' WHERE id = %s", (mailbox,))
    conn.execute(
        "UPDATE mailboxes SET smtp_error = 'login refused again' WHERE id = %s", (mailbox,)
    )  # not twice
    draft_campaign = factories.campaign(conn, org)
    factories.flow(conn, draft_campaign, other, step=0, status="draft")
    factories.flow(conn, draft_campaign, other, step=1, status="draft")

    events = {d["event_type"]: d["payload"] for d in deliveries(conn, everything)}
    assert Counter(d["event_type"] for d in deliveries(conn, everything)) == {
        "reply.received": 1,
        "contact.bounced": 1,
        "contact.unsubscribed": 2,
        "campaign.paused": 1,
        "mailbox.failing": 1,
        "draft.awaiting_review": 1,
    }
    received = events["reply.received"]
    assert received["type"] == "reply.received" and received["timestamp"].endswith("Z")
    data = received["data"]
    assert data["contact"]["id"] == str(contact_id) and data["campaign"]["id"] == str(campaign_id)
    assert data["excerpt"].startswith("Yes please.") and len(data["excerpt"]) == 1000
    assert "intent" in data and "confidence" in data
    assert events["campaign.paused"]["data"]["reason"] == "bounce rate 6% over 20 attempts"
    assert events["mailbox.failing"]["data"] == {
        "mailbox": {"id": str(mailbox), "email": "sam@team.example"},
        "side": "smtp",
        "reason": "login refused",
    }
    scopes = sorted(
        d["payload"]["data"]["scope"]
        for d in deliveries(conn, everything)
        if d["event_type"] == "contact.unsubscribed"
    )
    assert scopes == ["all", "campaign"]
    assert [d["event_type"] for d in deliveries(conn, replies_only)] == ["reply.received"]
    assert deliveries(conn, paused) == []


# Delivery.


def test_a_reply_is_delivered_signed_once_in_spite_of_two_failures(conn, outbox):
    org, campaign_id, contact_id = factories.prospect(conn)
    receiver = Receiver(500, 503)
    with http_server(receiver) as base:
        endpoint_id, secret = add_webhook(conn, org, f"{base}/hooks?team=1")
        reply(conn, org, campaign_id, contact_id)
        deliver_until_settled(conn, endpoint_id)
    # Three attempts, each signed as Standard Webhooks says, each with the same webhook-id.
    bodies = receiver.verified(secret)
    assert len(bodies) == 3 and len({headers["webhook-id"] for headers, _ in receiver.requests}) == 1
    assert receiver.requests[0][0]["webhook-id"].startswith("msg_")
    assert receiver.requests[0][0]["host"] == base.removeprefix("http://")
    assert bodies[0] == bodies[2] and bodies[0]["type"] == "reply.received"
    assert bodies[0]["data"]["contact"]["id"] == str(contact_id)
    [row] = deliveries(conn, endpoint_id)
    assert (row["status"], row["attempts"], row["last_status"], row["last_error"]) == (
        "delivered",
        3,
        200,
        None,
    )
    # Delivered means delivered: nothing more is sent.
    deliver.run()
    assert len(receiver.requests) == 3


def test_a_tampered_body_does_not_verify(conn, outbox):
    org, campaign_id, contact_id = factories.prospect(conn)
    receiver = Receiver()
    with http_server(receiver) as base:
        endpoint_id, secret = add_webhook(conn, org, f"{base}/")
        reply(conn, org, campaign_id, contact_id)
        deliver_until_settled(conn, endpoint_id)
    headers, body = receiver.requests[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"Monday", b"Friday"), headers)
    other_secret = add_webhook(conn, org, "https://hooks.team.example/")[1]
    with pytest.raises(WebhookVerificationError):
        Webhook(other_secret).verify(body, headers)


def test_a_redirect_is_not_followed(conn, outbox):
    org, campaign_id, contact_id = factories.prospect(conn)
    target = Receiver()
    with http_server(target) as elsewhere:
        redirecting = Receiver(
            302, 302, 302, 302, 302, 302, 302, 302, 302, headers={"Location": f"{elsewhere}/"}
        )
        with http_server(redirecting) as base:
            endpoint_id, _ = add_webhook(conn, org, f"{base}/")
            reply(conn, org, campaign_id, contact_id)
            deliver.run(limit=1)
    assert len(redirecting.requests) == 1 and target.requests == []
    [row] = deliveries(conn, endpoint_id)
    assert row["status"] == "pending" and row["last_status"] == 302
    assert row["last_error"] == "HTTP status 302: redirects are not followed"


def test_a_private_address_is_refused_without_allow_private_network(conn, outbox, env, monkeypatch):
    env(ALLOW_PRIVATE_NETWORK=None)
    org, campaign_id, contact_id = factories.prospect(conn)
    receiver = Receiver()
    with http_server(receiver) as base:
        port = base.rsplit(":", 1)[1]
        literal, _ = add_webhook(conn, org, f"https://127.0.0.1:{port}/")
        # A public-looking name that resolves to loopback is refused the same way.
        monkeypatch.setattr(fetch, "resolver", lambda host, port: ["127.0.0.1"])
        named, _ = add_webhook(conn, org, f"https://hooks.team.example:{port}/")
        plain, _ = add_webhook(conn, org, f"http://hooks.team.example:{port}/")
        reply(conn, org, campaign_id, contact_id)
        deliver.run()
    assert receiver.requests == []
    for endpoint_id, reason in [
        (literal, "blocked address: the endpoint is not a public address"),
        (named, "blocked address: the endpoint is not a public address"),
        (plain, "blocked address: plain http"),
    ]:
        [row] = deliveries(conn, endpoint_id)
        assert row["status"] == "failed" and row["last_error"].startswith(reason), row
        assert "127.0.0.1" not in row["last_error"]  # members read it: no address of the network


def test_a_failing_endpoint_fails_for_good_after_the_retry_hours_with_the_reason(conn, outbox):
    org, campaign_id, contact_id = factories.prospect(conn)
    receiver = Receiver(*[500] * 10)
    with http_server(receiver) as base:
        endpoint_id, _ = add_webhook(conn, org, f"{base}/")
        reply(conn, org, campaign_id, contact_id)
        conn.execute(
            "UPDATE webhook_deliveries SET created_at = now() - interval '25 hours' WHERE endpoint_id = %s",
            (endpoint_id,),
        )
        deliver.run()
    [row] = deliveries(conn, endpoint_id)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 1, "HTTP status 500")
    assert len(receiver.requests) == 1


def test_retries_follow_the_schedule_up_to_the_retry_hours(env):
    env(EVENTS_RETRY_BASE_SECONDS="5")
    assert [deliver.retry_delay(n) for n in (1, 2, 3, 4, 5, 6, 7, 8)] == [
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        36000,
        36000,
    ]


def test_a_slow_endpoint_does_not_delay_another_organizations_events(conn, outbox, env):
    env(EVENTS_PER_ENDPOINT="2", EVENTS_CONCURRENCY="8", EVENTS_TIMEOUT="40")
    release = threading.Event()
    slow = Receiver(hold=release)
    fast = Receiver()
    org_a, campaign_a, contact_a = factories.prospect(conn)
    org_b, campaign_b, contact_b = factories.prospect(conn)
    with http_server(slow) as slow_url, http_server(fast) as fast_url:
        add_webhook(conn, org_a, f"{slow_url}/")
        fast_id, _ = add_webhook(conn, org_b, f"{fast_url}/")
        for _ in range(6):
            reply(conn, org_a, campaign_a, contact_a)
        worker = threading.Thread(target=deliver.run)
        worker.start()
        try:
            # The fast organization's event comes after the slow one's backlog is claimed.
            reply(conn, org_b, campaign_b, contact_b)
            for _ in range(200):
                if fast.requests:
                    break
                threading.Event().wait(0.05)
            delivered_while_held = bool(fast.requests) and not release.is_set()
            slow_in_flight = slow.most_waiting
        finally:
            release.set()
            worker.join(60)
        deliver_until_settled(conn, fast_id)
    assert delivered_while_held
    assert slow_in_flight == 2  # the slow endpoint holds its own slots only
    assert len(slow.requests) == 6 and len(fast.requests) == 1


def test_deliver_events_takes_the_scheduler_s_call_with_the_secret_only(conn, outbox):
    client = function_client("deliver_events")
    assert client.post("/", json={}).status_code == 401
    response = client.post("/", json={}, headers={"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]})
    assert response.status_code == 200 and response.get_json()["claimed"] == 0
    response = client.post("/", json={"limit": 0}, headers={"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]})
    assert response.status_code == 400


def test_deliver_events_takes_a_database_webhook_of_the_outbox(conn, outbox):
    org, campaign_id, contact_id = factories.prospect(conn)
    receiver = Receiver()
    with http_server(receiver) as base:
        endpoint_id, _ = add_webhook(conn, org, f"{base}/")
        reply(conn, org, campaign_id, contact_id)
        [row] = deliveries(conn, endpoint_id)
        client = function_client("deliver_events")
        secret = {"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]}
        webhook = {
            "type": "INSERT",
            "table": "webhook_deliveries",
            "schema": "public",
            "record": {"id": str(row["id"])},
        }
        wrong = client.post("/", json={**webhook, "table": "contacts"}, headers=secret)
        assert wrong.status_code == 400 and receiver.requests == []
        response = client.post("/", json=webhook, headers=secret)
    assert response.status_code == 200 and response.get_json()["delivered"] == 1
    assert len(receiver.requests) == 1


def test_an_endpoint_that_never_answers_times_out_with_the_reason(conn, outbox, env):
    env(EVENTS_TIMEOUT="1")
    release = threading.Event()
    silent = Receiver(hold=release)
    org, campaign_id, contact_id = factories.prospect(conn)
    try:
        with http_server(silent) as base:
            endpoint_id, _ = add_webhook(conn, org, f"{base}/")
            reply(conn, org, campaign_id, contact_id)
            counts = deliver.run(limit=1)
            release.set()
    finally:
        release.set()
    [row] = deliveries(conn, endpoint_id)
    assert counts == {"claimed": 1, "retrying": 1}
    assert (row["status"], row["last_status"], row["last_error"]) == (
        "pending",
        None,
        "timeout: no answer within 1 s",
    )


def test_a_2xx_with_an_endless_answer_is_delivered_reading_only_up_to_the_cap(conn, outbox, env):
    env(EVENTS_RESPONSE_BYTES="1024")
    size = 100 * 1024 * 1024
    written = []
    hung_up = threading.Event()

    def endless(handler):
        handler.rfile.read(int(handler.headers["Content-Length"]))
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        try:
            for _ in range(size // 4096):
                handler.wfile.write(b"x" * 4096)
                written.append(4096)
        except (BrokenPipeError, ConnectionResetError):
            hung_up.set()  # the deliverer stopped listening
        return None

    org, campaign_id, contact_id = factories.prospect(conn)
    with http_server(endless) as base:
        endpoint_id, _ = add_webhook(conn, org, f"{base}/")
        reply(conn, org, campaign_id, contact_id)
        counts = deliver.run(limit=1)
        hung_up.wait(30)
    assert counts == {"claimed": 1, "delivered": 1}
    assert hung_up.is_set() and sum(written) < size
    [row] = deliveries(conn, endpoint_id)
    assert (row["status"], row["last_status"]) == ("delivered", 200)


def test_a_reply_classified_later_in_its_transaction_carries_the_intent(database_url, conn):
    """Reply classification sets the intent after the message's insert, in the same transaction:
    the event reads the row as it is at commit."""
    org, campaign_id, contact_id = factories.prospect(conn)
    endpoint_id, _ = add_webhook(conn, org, "https://hooks.team.example/replies")
    with psycopg.connect(database_url) as c, c.transaction(force_rollback=True):
        reply(c, org, campaign_id, contact_id, "Yes, let's talk on Tuesday.")
        c.execute(
            "UPDATE inbound_messages SET intent = 'interested', intent_confidence = 0.92 WHERE contact_id = %s",
            (contact_id,),
        )
        assert (
            c.execute(
                "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = %s", (endpoint_id,)
            ).fetchone()[0]
            == 0
        )
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what the commit does: the deferred trigger runs
        [(data,)] = c.execute(
            "SELECT payload -> 'data' FROM webhook_deliveries WHERE endpoint_id = %s", (endpoint_id,)
        ).fetchall()
    assert data["intent"] == "interested" and abs(data["confidence"] - 0.92) < 1e-6
    assert data["excerpt"] == "Yes, let's talk on Tuesday."
