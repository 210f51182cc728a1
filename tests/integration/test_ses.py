"""The SES transport against local endpoints that fail the way networks do: exactly one request
per message, a lost answer is never resent, and failures before the request count as temporary."""

from __future__ import annotations

import socket
import threading
import uuid
from contextlib import contextmanager

import pytest

from shared.sending import mailer, sender
from shared.sending.message import Outgoing
from tests import factories as f
from tests.integration.test_send_due import ALWAYS_OPEN, status


@contextmanager
def dropping_endpoint():
    """An HTTP endpoint that reads each whole request, then closes the connection unanswered:
    the request reached the server, its answer is lost. Yields (url, requests received)."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with client:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = client.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(body) < length:
                    chunk = client.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                received.append(head)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        listener.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ses(env, database_url, empty_queue):
    def configure(endpoint: str | None, **extra):
        env(
            MAIL_TRANSPORT="ses",
            AWS_ENDPOINT_URL_SESV2=endpoint,
            AWS_DEFAULT_REGION="eu-west-1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
            AWS_CONFIG_FILE="/nonexistent",
            AWS_EC2_METADATA_DISABLED="true",
            SEND_RATE_PER_SECOND=0,
            SEND_DOMAIN_SPACING_SECONDS=0,
            MAIL_FROM="Ana <ana@sender.example>",
            **extra,
        )

    return configure


def due_message(conn):
    _, campaign_id, contact_id = f.prospect(conn, ai_settings=ALWAYS_OPEN)
    return f.flow(conn, campaign_id, contact_id)


def test_a_lost_answer_sends_one_request_and_fails_as_unknown(conn, ses):
    with dropping_endpoint() as (url, received):
        ses(url)
        flow_id = due_message(conn)
        result = sender.run()
        assert len(received) == 1, f"SES received {len(received)} requests for one message"
    assert result["failed"] == 1 and result["sent"] == 0
    row = status(conn, flow_id)
    assert row[0] == "failed" and row[1].startswith("outcome unknown") and "not sent again" in row[1]


def test_a_refused_connection_is_temporary_and_retried_later(conn, ses):
    ses(f"http://127.0.0.1:{closed_port()}")
    flow_id = due_message(conn)
    assert sender.run()["deferred"] == 1
    row = status(conn, flow_id)
    assert row[0] == "scheduled" and row[1].startswith("retrying after a temporary failure: SES unreachable")
    assert row[3] is None


def test_missing_credentials_are_temporary(conn, ses, env):
    ses(f"http://127.0.0.1:{closed_port()}")
    env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    flow_id = due_message(conn)
    assert sender.run()["deferred"] == 1
    row = status(conn, flow_id)
    assert row[0] == "scheduled" and "SES is not configured: NoCredentialsError" in row[1]


def test_temporary_failures_are_bounded(conn, ses, env):
    ses(f"http://127.0.0.1:{closed_port()}", SEND_MAX_ATTEMPTS=2)
    flow_id = due_message(conn)
    sender.run()
    conn.execute("UPDATE outreach_flows SET scheduled_send_time = now() WHERE id = %s", (flow_id,))
    sender.run()
    row = status(conn, flow_id)
    assert row[0] == "failed" and row[1].startswith("gave up after 2 attempts: SES unreachable")


def test_transport_outcomes_directly(ses):
    outgoing = Outgoing(uuid.uuid4(), "<m@x>", "a@b.example", "c@d.example", b"Subject: x\r\n\r\nhi\r\n")
    with dropping_endpoint() as (url, received):
        ses(url)
        outcome = mailer.SesTransport().send(outgoing)
        assert isinstance(outcome, mailer.Unknown) and len(received) == 1
    ses(f"http://127.0.0.1:{closed_port()}")
    assert isinstance(mailer.SesTransport().send(outgoing), mailer.Temporary)
