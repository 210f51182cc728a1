"""Signed webhooks with real processes: several deliver_events at once, against receivers that
fail some first attempts, deliver each event once (one 2xx per webhook-id), every attempt of an
event with the same webhook-id and a valid signature."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter, defaultdict

import pytest
from standardwebhooks import Webhook

from tests import factories
from tests.helpers import ROOT, http_server

pytestmark = pytest.mark.slow


class CountingReceiver:
    """Answers 500 to the first attempt of every third event, 200 otherwise; counts by webhook-id."""

    def __init__(self, secret_of: dict[str, str]):
        self.secret_of = secret_of
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.bad_signatures = 0

    def __call__(self, handler):
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        endpoint = handler.path.strip("/")
        try:
            Webhook(self.secret_of[endpoint]).verify(body, headers)
        except Exception:
            with self.lock:
                self.bad_signatures += 1
            return 400, {}, b""
        msg_id = headers["webhook-id"]
        with self.lock:
            self.attempts[msg_id] += 1
            fail = self.attempts[msg_id] == 1 and int(msg_id[-6:], 16) % 3 == 0
            if not fail:
                self.accepted[msg_id] += 1
        return (500 if fail else 200), {}, b""


def test_four_deliverers_over_600_events_deliver_each_once(conn, database_url):
    conn.execute("UPDATE webhook_endpoints SET active = false")
    secret_of: dict[str, str] = {}
    receiver = CountingReceiver(secret_of)
    expected: dict[str, str] = {}
    with http_server(receiver) as base:
        for name in ("crm", "chat"):
            org, campaign_id, contact_id = factories.prospect(conn)
            endpoint_id, secret = conn.execute(
                "SELECT id, secret FROM public.add_webhook(%s, %s, %s)",
                (org, f"{base}/{name}", ["reply.received"]),
            ).fetchone()
            secret_of[name] = secret
            conn.execute(
                "INSERT INTO inbound_messages (organization_id, contact_id, campaign_id, kind, snippet, fingerprint)"
                " SELECT %s, %s, %s, 'reply', 'Reply ' || n, gen_random_uuid()::text FROM generate_series(1, 300) n",
                (org, contact_id, campaign_id),
            )
            for (delivery_id,) in conn.execute(
                "SELECT id FROM webhook_deliveries WHERE endpoint_id = %s", (endpoint_id,)
            ).fetchall():
                expected[f"msg_{delivery_id.hex}"] = name
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ALLOW_PRIVATE_NETWORK": "true",
            "EVENTS_RETRY_BASE_SECONDS": "0",
            "EVENTS_PER_ENDPOINT": "4",
            "DB_POOL_SIZE": "4",
        }
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.acceptance.deliver_process"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(4)
        ]
        outputs = [json.loads(p.communicate(timeout=600)[0]) for p in procs]
    assert len(expected) == 600
    assert receiver.bad_signatures == 0
    assert set(receiver.accepted) == set(expected) and max(receiver.accepted.values()) == 1
    retried = {m for m, n in receiver.attempts.items() if n > 1}
    assert retried and all(int(m[-6:], 16) % 3 == 0 for m in retried)
    per_endpoint = defaultdict(int)
    for msg_id in receiver.accepted:
        per_endpoint[expected[msg_id]] += 1
    assert per_endpoint == {"crm": 300, "chat": 300}
    assert sum(o.get("delivered", 0) for o in outputs) == 600
    assert sum(1 for o in outputs if o.get("delivered", 0) > 0) >= 2, (
        "the work was spread over several processes"
    )
    statuses = dict(
        conn.execute(
            "SELECT status, count(*) FROM webhook_deliveries WHERE id = ANY(%s) GROUP BY status",
            ([m.removeprefix("msg_") for m in expected],),
        ).fetchall()
    )
    assert statuses == {"delivered": 600}
