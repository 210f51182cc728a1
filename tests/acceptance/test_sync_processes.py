"""Promise 8 with real processes: sync_mailboxes killed with SIGKILL in the middle of an INBOX,
then run again, and two instances at once over three mailboxes. Every message is handled exactly
once: none missed, none twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from shared.inbound import sync
from tests.acceptance.bulk import due_messages, inbound_mail, sent_through_mailbox
from tests.helpers import ROOT, kill_and_wait_for_sessions
from tests.imapserver import Dovecot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dovecot():
    with Dovecot() as server:
        yield server


@pytest.fixture(autouse=True)
def only_this_tests_mailboxes(conn):
    """sync_mailboxes reads every active mailbox: other tests' mailboxes stay out of these runs."""
    conn.execute("UPDATE mailboxes SET active = false")
    yield
    conn.execute("UPDATE mailboxes SET active = false")


def expected(count: int) -> dict[str, int]:
    """What inbound_mail's mix holds: a reply every 10th, a bounce every 50th (from the 2nd), an
    automatic reply every 20th (from the 3rd)."""
    return {
        "reply": len(range(0, count, 10)),
        "bounce": len(range(1, count, 50)),
        "auto_reply": len(range(2, count, 20)),
    }


def mailbox_with_mail(conn, dovecot, count: int) -> str:
    org, campaign = due_messages(conn, 2000)
    user = f"box-{org.hex[:8]}@team.example"
    dovecot.add_user(user, "imap-pw")
    box = conn.execute(
        "SELECT public.add_mailbox(%s, %s, 'smtp://u:p@127.0.0.1:1', %s, 100)", (org, user, dovecot.url(user))
    ).fetchone()[0]
    dovecot.deliver_to_maildir(user, inbound_mail(sent_through_mailbox(conn, box, campaign), count))
    return org


def handled(conn, org) -> dict[str, int]:
    return dict(
        conn.execute(
            "SELECT kind, count(*) FROM inbound_messages WHERE organization_id = %s GROUP BY kind", (org,)
        ).fetchall()
    )


def start_sync(**extra) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ALLOW_PRIVATE_NETWORK": "true", **extra}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.acceptance.sync_process"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def test_a_sync_killed_mid_inbox_misses_nothing_and_repeats_nothing(conn, dovecot, env):
    org = mailbox_with_mail(conn, dovecot, 3000)
    victim = start_sync(IMAP_BATCH_SIZE="50", PGAPPNAME="victim-sync")
    deadline = time.monotonic() + 60
    while sum(handled(conn, org).values()) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    kill_and_wait_for_sessions(victim, conn, "victim-sync")
    before = sum(handled(conn, org).values())
    assert 0 < before < sum(expected(3000).values()), "the kill must land mid-INBOX"

    # The next run, once the dead one's lease is over, reads on from the last batch it recorded.
    conn.execute(
        "UPDATE mailboxes SET sync_lease_expires_at = now() - interval '1 second' WHERE organization_id = %s",
        (org,),
    )
    env(ALLOW_PRIVATE_NETWORK="true", IMAP_BATCH_SIZE="50")
    counts = sync.run()
    assert handled(conn, org) == expected(3000)
    assert counts["read"] < 3000, "it went on from the cursor, not from the start"


def test_two_syncs_at_once_handle_each_message_once(conn, dovecot):
    orgs = [mailbox_with_mail(conn, dovecot, 600) for _ in range(3)]
    procs = [start_sync(IMAP_BATCH_SIZE="25") for _ in range(2)]
    outputs = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert sum(o["read"] for o in outputs) == 1800, "each message read by one instance"
    assert sum(o["mailboxes"] for o in outputs) == 3
    for org in orgs:
        assert handled(conn, org) == expected(600)
