"""Fault injection. Each test names the promise it checks, and checks that nothing was lost and
nothing was done twice. (Also in the suite: a sender killed with SIGKILL mid-batch,
test_send_concurrency.py; the LLM down, test_draft.py; every webhook lost, test_local_run.py.)"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

import psycopg
import pytest

from local import embedded, migrate
from shared.core import db
from shared.sending import sender
from tests import factories as f
from tests.acceptance.bulk import due_messages
from tests.mailserver import MailServer, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def own_server(tmp_path, env):
    """A PostgreSQL of this test's own, so it can be stopped and started again."""
    pgdata = Path(f"/tmp/outreach-fault-{os.getpid()}-{time.monotonic_ns()}")
    url = embedded.start(pgdata)
    migrate.apply(url)
    env(
        DATABASE_URL=url,
        DRAIN_GRACE_SECONDS=0,
        WORK_LEASE_SECONDS=5,
        WORK_RETRY_BASE_SECONDS=1,
        LLM_BASE_URL=None,
        DB_POOL_SIZE=4,
    )
    db.close_pool()
    yield pgdata, url
    db.close_pool()
    embedded.stop(pgdata)
    import shutil

    shutil.rmtree(pgdata, ignore_errors=True)


def test_database_restart_mid_drain(own_server):
    """Promise 3, nothing stuck: the database stops and starts again while draft_message drains;
    the same process, without a restart of its own, finishes every row, each sequence once."""
    from shared.core.triggers import run_drain
    from shared.core.work import DRAFT
    from shared.drafting import drafter

    pgdata, url = own_server
    with psycopg.connect(url, autocommit=True) as conn:
        org = f.org(conn)
        campaign = f.campaign(conn, org)
        for _ in range(150):
            f.link(conn, campaign, f.contact(conn, org))
    errors, outcomes = [], []
    reached, down, back = threading.Event(), threading.Event(), threading.Event()
    numbered = itertools.count()
    during_outage = []

    def slow_draft(row):
        # From the 20th row on, rows go ahead only once the database is down: the outage is
        # sure to land in the middle of the drain, with rows in flight.
        if next(numbered) >= 20:
            reached.set()
            down.wait(30)
            if not back.is_set():
                during_outage.append(row["contact_id"])
        time.sleep(0.03)  # as long as a quick LLM answer
        return drafter.draft(row)

    def drain_until_done():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                result = run_drain(DRAFT, slow_draft, 10)
                outcomes.append(result)
                with db.transaction() as conn:
                    left = conn.execute(
                        "SELECT count(*) FROM campaign_contacts WHERE status IN ('pending', 'drafting')"
                    ).fetchone()[0]
                if left == 0:
                    return
            except Exception as exc:  # the outage: keep going, as the scheduler would
                errors.append(type(exc).__name__)
                time.sleep(0.3)

    worker = threading.Thread(target=drain_until_done)
    worker.start()
    assert reached.wait(60)
    embedded.stop(pgdata)  # mid-drain
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)  # the database is really down
    down.set()
    time.sleep(1.5)
    embedded.start(pgdata)
    back.set()
    worker.join(timeout=150)

    # Rows began their work while the database was down: the pool waited for it and replaced
    # the dead connections, and the rows finished. (A row cut off mid-transaction would instead
    # be retried or left to its lease; either way it ends drafted below.)
    assert during_outage, "no row ran during the outage: the test did not test anything"
    with psycopg.connect(url) as conn:
        states = dict(
            conn.execute("SELECT status, count(*) FROM campaign_contacts GROUP BY status").fetchall()
        )
        steps = conn.execute(
            "SELECT count(*), count(DISTINCT (contact_id, sequence_order)) FROM outreach_flows"
        ).fetchone()
    assert states == {"drafted": 150}
    assert steps == (450, 450)  # three steps each, none twice


def test_smtp_server_down_then_back(conn, env, empty_queue):
    """Promise 1 and 3: with the SMTP server down, messages are deferred, not failed; once it is
    back they are sent, each once."""
    port = free_port()
    env(
        MAIL_TRANSPORT="smtp",
        SMTP_URL=f"smtp://127.0.0.1:{port}?starttls=off&timeout=2",
        SEND_RATE_PER_SECOND=0,
        SEND_DOMAIN_SPACING_SECONDS=0,
    )
    _, campaign_id = due_messages(conn, 40)
    down = sender.run(limit=100)
    assert down["deferred"] == 40 and down["failed"] == 0 and down["sent"] == 0
    states = dict(
        conn.execute(
            "SELECT status, count(*) FROM outreach_flows WHERE campaign_id = %s GROUP BY status",
            (campaign_id,),
        ).fetchall()
    )
    assert states == {"scheduled": 40}

    with MailServer(port=port) as server:  # back, on the address the sender knows
        conn.execute(
            "UPDATE outreach_flows SET scheduled_send_time = now() WHERE campaign_id = %s", (campaign_id,)
        )
        up = sender.run(limit=100)
        ids = server.recorder.message_ids()
    assert up["sent"] == 40
    assert len(ids) == 40 and set(ids.values()) == {1}
    assert conn.execute(
        "SELECT count(*) FROM outreach_flows WHERE campaign_id = %s AND status = 'sent'", (campaign_id,)
    ).fetchone() == (40,)
