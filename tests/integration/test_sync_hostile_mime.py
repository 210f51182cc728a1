"""A property of sync_mailboxes through a real IMAP server (Dovecot): whatever MIME arrives (deep
nesting, huge and repeated headers, broken transfer encodings and charsets, NUL, 8-bit headers,
no Message-ID, threading headers naming our message), the function answers 200 and the mailbox's
cursor has moved past every message in its INBOX. Hypothesis writes the messages; the example
count is bounded (HOSTILE_MIME_EXAMPLES, default 25) so it runs in well under a minute."""

from __future__ import annotations

import os
import secrets
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as f
from tests.helpers import function_client
from tests.imapserver import Dovecot
from tests.integration.test_mailboxes import add_mailbox

EXAMPLES = int(os.environ.get("HOSTILE_MIME_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def dovecot():
    with Dovecot() as server:
        yield server


@pytest.fixture
def inbox(conn, dovecot, env):
    """One organization's mailbox, the only active one while the property runs (sync reads
    every active mailbox), with one message sent to a contact so replies can name it."""
    env(ALLOW_PRIVATE_NETWORK="true")
    conn.execute("UPDATE mailboxes SET active = false")
    org = f.org(conn)
    user = f"hostile-{secrets.token_hex(4)}@team.example"
    dovecot.add_user(user, "imap-pass")
    mailbox = add_mailbox(conn, org, user, "smtp://u:p@127.0.0.1:1", dovecot.url(user))
    campaign = f.campaign(conn, org)
    contact = f.contact(conn, org, "sam@greenleaf.example")
    f.link(conn, campaign, contact, status="drafted")
    message_id = f"<{uuid.uuid4().hex}@team.example>"
    f.flow(
        conn,
        campaign,
        contact,
        status="sent",
        sent_at=datetime.now(UTC),
        mailbox_id=mailbox,
        message_id=message_id,
    )
    yield {"user": user, "mailbox": mailbox, "message_id": message_id}
    conn.execute("UPDATE mailboxes SET active = false WHERE id = %s", (mailbox,))


def deliver(dovecot: Dovecot, user: str, raw: bytes) -> None:
    """As a delivery agent writes it: a file in the user's Maildir new/, taken in on the next
    SELECT. Bytes IMAP APPEND would refuse (NUL) arrive this way too."""
    maildir = dovecot.root / "mail" / user
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)
        os.chown(maildir / folder, dovecot.uid, dovecot.gid)
    os.chown(maildir, dovecot.uid, dovecot.gid)
    path = maildir / "new" / f"{int(datetime.now(UTC).timestamp())}.{uuid.uuid4().hex}.outreach-test"
    path.write_bytes(raw)
    os.chown(path, dovecot.uid, dovecot.gid)


CHARSETS = ["utf-8", "x-no-such-charset", "utf-7", "iso-2022-jp", "utf-16", "", "us-ascii\x00", "latin-1"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", "gzip"]


@st.composite
def hostile_messages(draw, our_message_id: str) -> bytes:
    senders = [
        b"Sam <sam@greenleaf.example>",
        b"MAILER-DAEMON@attacker.example",
        b"=?utf-8?Q?broken",
        b"\xff\xfe@\x00",
    ]
    head = [b"From: " + draw(st.sampled_from(senders))]
    head.append(b"Subject: " + draw(st.sampled_from([b"Re: Hello", b"Out of office", b"Undelivered Mail"])))
    head.append(
        b"X-8bit: " + draw(st.binary(min_size=0, max_size=200)).replace(b"\r", b"").replace(b"\n", b"")
    )
    if draw(st.booleans()):
        head.append(b"Message-ID: <" + secrets.token_hex(8).encode() + b"@greenleaf.example>")
    if draw(st.booleans()):
        head.append(b"In-Reply-To: " + our_message_id.encode())
    head += [b"Received: from x by y; " + str(i).encode() for i in range(draw(st.sampled_from([0, 5, 3000])))]
    head.append(b"X-Huge: " + b"A" * draw(st.sampled_from([0, 1000, 300_000])))
    if draw(st.booleans()):
        head.append(b"Auto-Submitted: auto-replied")
    depth = draw(st.sampled_from([0, 1, 50, 3000]))
    charset = draw(st.sampled_from(CHARSETS)).encode()
    encoding = draw(st.sampled_from(ENCODINGS)).encode()
    leaf = (
        b"Content-Type: "
        + draw(
            st.sampled_from([b"text/plain", b"text/html", b"multipart/report; report-type=delivery-status"])
        )
        + b"; charset="
        + charset
        + b"\r\nContent-Transfer-Encoding: "
        + encoding
        + b"\r\n\r\n"
        + draw(st.binary(min_size=0, max_size=500))
        + b"\r\nPlease remove me.\r\n"
    )
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth)
    )
    return b"\r\n".join(head) + b"\r\n" + (nested + leaf if depth else leaf)


def highest_uid(dovecot: Dovecot, user: str) -> int:
    client = dovecot.client(user)
    try:
        client.select_folder("INBOX", readonly=True)
        return max(client.search(["ALL"]) or [0])  # UIDs: IMAPClient searches by UID
    finally:
        client.logout()


def test_whatever_mime_arrives_the_cursor_moves_past_it_and_the_function_answers_200(conn, dovecot, inbox):
    client = function_client("sync_mailboxes")
    secret = {"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(st.lists(hostile_messages(inbox["message_id"]), min_size=1, max_size=2))
    def property_holds(messages):
        for raw in messages:
            deliver(dovecot, inbox["user"], raw)
        answer = client.post("/", json={}, headers=secret)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        result = {r["mailbox_id"]: r for r in answer.get_json()["results"]}[str(inbox["mailbox"])]
        assert result["error"] is None
        last_uid, error = conn.execute(
            "SELECT imap_last_uid, imap_error FROM mailboxes WHERE id = %s", (inbox["mailbox"],)
        ).fetchone()
        assert error is None and last_uid == highest_uid(dovecot, inbox["user"])

    property_holds()
