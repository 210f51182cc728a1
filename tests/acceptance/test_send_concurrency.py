"""Promise 1, "Never twice", with real processes: concurrent senders, and a sender killed
with SIGKILL mid-batch. Duplicates are counted per outreach_flows row (from the unsubscribe
token each message carries), since a second send would carry a new Message-ID."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from shared.inbound import tokens
from shared.sending import sender
from tests.acceptance.bulk import due_messages
from tests.helpers import ROOT, kill_and_wait_for_sessions
from tests.mailserver import Behaviour, Logins, MailServer

pytestmark = pytest.mark.slow


def flows_delivered(server: MailServer) -> Counter:
    counted: Counter = Counter()
    for msg in server.recorder.parsed():
        url = msg["List-Unsubscribe"].strip("<>")
        counted[tokens.verify(url.split("token=")[1])] += 1
    return counted


def sender_env(server: MailServer, **extra) -> dict:
    return {
        **os.environ,
        "MAIL_TRANSPORT": "smtp",
        "SMTP_URL": server.url,
        "SEND_RATE_PER_SECOND": "0",
        "SEND_DOMAIN_SPACING_SECONDS": "0",
        "DB_POOL_SIZE": "6",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def start_sender(env: dict, limit: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.acceptance.sender_process", str(limit)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def test_eight_senders_over_5000_rows_deliver_each_exactly_once(conn, empty_queue):
    _, campaign_id = due_messages(conn, 5000)
    with MailServer() as server:
        env = sender_env(server)
        procs = [start_sender(env, 100) for _ in range(8)]
        outputs = [json.loads(p.communicate(timeout=600)[0]) for p in procs]
        delivered = flows_delivered(server)
        ids = server.recorder.message_ids()
    statuses = dict(
        conn.execute(
            "SELECT status, count(*) FROM outreach_flows WHERE campaign_id = %s GROUP BY status",
            (campaign_id,),
        ).fetchall()
    )
    assert statuses == {"sent": 5000}
    assert len(delivered) == 5000 and max(delivered.values()) == 1
    assert len(ids) == 5000 and max(ids.values()) == 1
    assert sum(o["sent"] for o in outputs) == 5000
    assert sum(1 for o in outputs if o["sent"] > 0) >= 2, "the work was spread over several processes"
    stored = {
        r[0]
        for r in conn.execute("SELECT message_id FROM outreach_flows WHERE campaign_id = %s", (campaign_id,))
    }
    assert stored == set(ids)


def test_sender_killed_mid_batch_never_sends_twice_and_settles_every_row(conn, empty_queue, env):
    _, campaign_id = due_messages(conn, 300)
    with MailServer(Behaviour(latency=0.01)) as server:
        env_vars = sender_env(server, SEND_LEASE_SECONDS="10", SMTP_POOL_SIZE="2", PGAPPNAME="victim-sender")
        victim = start_sender(env_vars, 300)
        deadline = time.monotonic() + 60
        while len(server.recorder.messages) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        kill_and_wait_for_sessions(victim, conn, "victim-sender")
        arrived_before = len(server.recorder.messages)
        assert 0 < arrived_before < 300, "the kill must land mid-batch"
        in_flight = conn.execute(
            "SELECT count(*) FROM outreach_flows WHERE campaign_id = %s AND status = 'sending'",
            (campaign_id,),
        ).fetchone()[0]
        assert in_flight > 0

        # A new instance before the lease ends leaves the dead one's rows alone...
        env(MAIL_TRANSPORT="smtp", SMTP_URL=server.url, SEND_RATE_PER_SECOND=0, SEND_DOMAIN_SPACING_SECONDS=0)
        sender.run(limit=500)
        assert (
            conn.execute(
                "SELECT count(*) FROM outreach_flows WHERE campaign_id = %s AND status = 'sending'",
                (campaign_id,),
            ).fetchone()[0]
            == in_flight
        )
        # ...and after it, settles them: requeued and sent if never started, failed if unknown.
        conn.execute(
            "UPDATE outreach_flows SET lease_expires_at = now() - interval '1 second'"
            " WHERE campaign_id = %s AND status = 'sending'",
            (campaign_id,),
        )
        while sender.run(limit=500)["claimed"]:
            pass
        delivered = flows_delivered(server)

    rows = conn.execute(
        "SELECT id, status, status_reason FROM outreach_flows WHERE campaign_id = %s", (campaign_id,)
    ).fetchall()
    by_status = Counter(r[1] for r in rows)
    assert set(by_status) <= {"sent", "failed"}, by_status
    assert max(delivered.values()) == 1, "a message was delivered twice"
    for flow_id, state, reason in rows:
        if state == "sent":
            assert delivered[flow_id] == 1
        else:
            assert reason.startswith("outcome unknown"), reason
    # Unknown outcomes are bounded by what was in flight when the process died.
    assert by_status["failed"] <= 2


def test_eight_senders_keep_every_mailbox_under_its_cap(conn, empty_queue):
    """Promise 9: three mailboxes with caps of 40, 25 and 60, one of them on a ramp that allows
    15 today, 400 due messages and 8 send_due processes at once: each mailbox sends exactly what
    it may, the rest wait, and nothing goes twice."""
    org_id, campaign_id = due_messages(conn, 400)
    caps = {"a@team.example": 40, "b@team.example": 25, "c@team.example": 60}
    logins = {address: Logins("mailer", "pw-" + address) for address in caps}
    with contextlib.ExitStack() as stack:
        servers = {
            address: stack.enter_context(MailServer(authenticator=logins[address], auth_require_tls=False))
            for address in caps
        }
        for address, cap in caps.items():
            url = f"smtp://mailer:pw-{address.replace('@', '%40')}@127.0.0.1:{servers[address].port}"
            conn.execute("SELECT public.add_mailbox(%s, %s, %s, NULL, %s)", (org_id, address, url, cap))
        conn.execute(
            "UPDATE mailboxes SET ramp_start = 5, ramp_step = 5, created_at = now() - interval '2 days'"
            " WHERE email = 'c@team.example' AND organization_id = %s",
            (org_id,),
        )
        env = sender_env(servers["a@team.example"], MAIL_TRANSPORT="file", ALLOW_PRIVATE_NETWORK="true")
        procs = [start_sender(env, 30) for _ in range(8)]
        outputs = [json.loads(p.communicate(timeout=600)[0]) for p in procs]
        received = {address: flows_delivered(server) for address, server in servers.items()}
    allowed = {"a@team.example": 40, "b@team.example": 25, "c@team.example": 15}
    assert {address: len(flows) for address, flows in received.items()} == allowed
    assert all(max(flows.values()) == 1 for flows in received.values())
    by_mailbox = dict(
        conn.execute(
            "SELECT m.email, count(*) FROM outreach_flows f JOIN mailboxes m ON m.id = f.mailbox_id"
            " WHERE f.campaign_id = %s AND f.status = 'sent' GROUP BY m.email",
            (campaign_id,),
        ).fetchall()
    )
    assert by_mailbox == allowed
    assert sum(o["sent"] for o in outputs) == 80
    statuses = dict(
        conn.execute(
            "SELECT status, count(*) FROM outreach_flows WHERE campaign_id = %s GROUP BY status",
            (campaign_id,),
        ).fetchall()
    )
    assert statuses == {"sent": 80, "scheduled": 320}


def test_four_senders_post_each_approved_form_message_once(conn, empty_queue):
    """Promise 10: 12 approved form messages, each to a site of its own, and 4 send_due
    processes at once: each site receives exactly one post."""
    from urllib.parse import parse_qs

    from shared.discovery import forms
    from tests import factories as f
    from tests.helpers import http_server
    from tests.unit.test_forms import CF7

    posts: Counter = Counter()

    def respond(handler):
        if handler.path == "/robots.txt":
            return 404, {}, b""
        if handler.command == "POST":
            length = int(handler.headers.get("Content-Length", 0))
            parse_qs(handler.rfile.read(length).decode())
            posts[handler.server.server_address[1]] += 1
            return 303, {"Location": "/thanks"}, b""
        return 200, {"Content-Type": "text/html"}, f"<html><body>{CF7}</body></html>".encode()

    with contextlib.ExitStack() as stack:
        bases = [stack.enter_context(http_server(respond)) for _ in range(12)]
        for base in bases:
            (form,) = forms.find(f"<html><body>{CF7}</body></html>", base + "/contact/")
            org = f.org(conn)
            campaign = f.campaign(
                conn,
                org,
                ai_settings={
                    "channels": ["form"],
                    "sending_window": {
                        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                        "start_hour": 0,
                        "end_hour": 24,
                    },
                },
            )
            task = f.search_task(conn, campaign)
            scrape_id = f.scrape_result(conn, task, base + "/contact/")
            form_id = conn.execute(
                "INSERT INTO contact_forms (organization_id, scrape_result_id, site, page_url, action, method, enctype,"
                " fields, roles) VALUES (%s, %s, %s, %s, %s, 'post', %s, '[]', '{}') RETURNING id",
                (org, scrape_id, forms.site_of(base), base + "/contact/", form.action, form.enctype),
            ).fetchone()[0]
            contact = conn.execute(
                "INSERT INTO contacts (organization_id, contact_form_id, form_site) VALUES (%s, %s, %s) RETURNING id",
                (org, form_id, forms.site_of(base)),
            ).fetchone()[0]
            f.link(conn, campaign, contact)
            f.flow(conn, campaign, contact, flow_type="form_submission")
        env = {
            **os.environ,
            "MAIL_TRANSPORT": "file",
            "ALLOW_PRIVATE_NETWORK": "true",
            "SEND_DOMAIN_SPACING_SECONDS": "0",
            "SEND_RATE_PER_SECOND": "0",
            "PYTHONPATH": str(ROOT),
        }
        procs = [start_sender(env, 2) for _ in range(4)]
        outputs = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert sorted(posts.values()) == [1] * 12
    assert sum(o["sent"] for o in outputs) == 12
