"""Leases of the row-driven stages (promise 3): a drain claims a row only when a worker is free
for it, a row being worked on keeps its lease, and a worker whose lease was lost writes nothing."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from shared.core import db
from shared.core.triggers import run_drain
from shared.core.work import DRAFT
from shared.drafting import drafter
from tests import factories as f


@pytest.fixture
def own_database(fresh_database, env):
    """A database of this test's own: a drain takes every waiting row it finds."""
    env(DATABASE_URL=fresh_database, DRAIN_GRACE_SECONDS=0)
    db.close_pool()
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        yield conn
    db.close_pool()


def waiting_contacts(conn, n: int):
    org = f.org(conn)
    campaign = f.campaign(conn, org)
    contacts = [f.contact(conn, org) for _ in range(n)]
    for contact in contacts:
        f.link(conn, campaign, contact)
    return campaign, contacts


def leased(conn, campaign) -> int:
    return conn.execute(
        "SELECT count(*) FROM campaign_contacts WHERE campaign_id = %s AND status = 'drafting'", (campaign,)
    ).fetchone()[0]


def test_a_drain_leases_only_the_rows_its_workers_hold(own_database, env):
    env(DRAIN_CONCURRENCY=2)
    campaign, _ = waiting_contacts(own_database, 12)
    seen = []

    def slow(row):
        seen.append(leased(own_database, campaign))
        time.sleep(0.1)
        with db.transaction() as conn:
            DRAFT.finish(conn, row, "drafted", "test")
        return "drafted"

    result = run_drain(DRAFT, slow, 12)
    assert result == {"processed": 12, "drafted": 12}
    # Each worker leases its next row only when it starts on it: never more than two at once.
    assert max(seen) <= 2, seen


def test_a_drain_stops_taking_rows_after_its_budget(own_database, env):
    env(DRAIN_CONCURRENCY=1, DRAIN_BUDGET_SECONDS=1)
    campaign, _ = waiting_contacts(own_database, 6)

    def slow(row):
        time.sleep(0.6)
        with db.transaction() as conn:
            DRAFT.finish(conn, row, "drafted", "test")
        return "drafted"

    assert run_drain(DRAFT, slow, 6)["processed"] == 2
    pending = own_database.execute(
        "SELECT count(*) FROM campaign_contacts WHERE campaign_id = %s AND status = 'pending' AND attempts = 0",
        (campaign,),
    ).fetchone()[0]
    assert pending == 4  # untouched, no attempt spent: the next drain takes them


def test_a_row_being_worked_on_keeps_its_lease(own_database, env):
    env(WORK_LEASE_SECONDS=5)
    campaign, (contact,) = waiting_contacts(own_database, 1)
    calls = []

    def slow(row):
        calls.append(row["attempts"])
        time.sleep(7)  # longer than the lease
        with db.transaction() as conn:
            DRAFT.finish(conn, row, "drafted", "slow but done")
        return "drafted"

    first = {}
    worker = threading.Thread(target=lambda: first.update(run_drain(DRAFT, slow, 1)))
    worker.start()
    time.sleep(6)  # the first lease would have run out by now
    second = run_drain(DRAFT, slow, 1)
    worker.join()
    assert second == {"processed": 0}
    assert first == {"processed": 1, "drafted": 1} and calls == [1]
    state = own_database.execute(
        "SELECT status, attempts FROM campaign_contacts WHERE campaign_id = %s AND contact_id = %s",
        (campaign, contact),
    ).fetchone()
    assert state == ("drafted", 1)


def test_a_worker_whose_lease_was_lost_writes_nothing(own_database):
    campaign, (contact,) = waiting_contacts(own_database, 1)

    def claimed_elsewhere_meanwhile(row):
        # The lease ran out and another drain claimed the row (attempt 2) while this one drafted.
        own_database.execute(
            "UPDATE campaign_contacts SET attempts = attempts + 1 WHERE campaign_id = %s AND contact_id = %s",
            (row["campaign_id"], row["contact_id"]),
        )
        return drafter.draft(row)

    assert run_drain(DRAFT, claimed_elsewhere_meanwhile, 1) == {"processed": 1, "lost": 1}
    flows = own_database.execute(
        "SELECT count(*) FROM outreach_flows WHERE campaign_id = %s AND contact_id = %s", (campaign, contact)
    ).fetchone()[0]
    assert flows == 0
    state = own_database.execute(
        "SELECT status, attempts FROM campaign_contacts WHERE campaign_id = %s", (campaign,)
    ).fetchone()
    assert state == ("drafting", 2)  # the other claim's to finish
