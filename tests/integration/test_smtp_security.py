"""SMTP with STARTTLS, implicit TLS and AUTH against aiosmtpd, with a certificate the test
makes and the client trusts through SSL_CERT_FILE (as a private CA would be trusted)."""

from __future__ import annotations

import ssl

import pytest

from shared.sending import sender
from tests import factories as f
from tests.helpers import loopback_certificate
from tests.integration.test_send_due import prospect, status
from tests.mailserver import Logins, MailServer


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    return loopback_certificate(tmp_path_factory.mktemp("tls"), "outreach test mail server")


def server_context(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def send_one(conn, env, url: str, certificate) -> tuple:
    env(
        MAIL_TRANSPORT="smtp",
        SMTP_URL=url,
        SEND_DOMAIN_SPACING_SECONDS=0,
        SEND_RATE_PER_SECOND=0,
        SSL_CERT_FILE=str(certificate[0]),
    )
    _, campaign_id, contact_id = prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id)
    return sender.run(), status(conn, flow_id)


def test_starttls_with_authentication(conn, env, empty_queue, certificate):
    logins = Logins()
    options = dict(
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=logins,
        auth_require_tls=True,
    )
    with MailServer(**options) as server:
        url = f"smtp://mailer:s3cret%20pass@127.0.0.1:{server.port}?starttls=require&timeout=10"
        result, row = send_one(conn, env, url, certificate)
        assert result["sent"] == 1 and row[0] == "sent"
        assert len(server.recorder.messages) == 1
    assert logins.attempts and all(ok for _, ok in logins.attempts)


def test_implicit_tls(conn, env, empty_queue, certificate):
    with MailServer(ssl_context=server_context(certificate)) as server:
        result, row = send_one(conn, env, f"smtps://127.0.0.1:{server.port}?timeout=10", certificate)
        assert result["sent"] == 1 and row[0] == "sent"
        assert len(server.recorder.messages) == 1


def test_untrusted_certificate_sends_nothing_and_retries_later(conn, env, empty_queue, certificate, tmp_path):
    other = tmp_path / "unrelated.pem"  # trust nothing the server presents
    other.write_text("")
    with MailServer(tls_context=server_context(certificate), require_starttls=True) as server:
        result, row = send_one(
            conn, env, f"smtp://127.0.0.1:{server.port}?starttls=require&timeout=10", (other, None)
        )
        assert result["sent"] == 0 and server.recorder.messages == []
    assert row[0] == "scheduled" and "SMTP connection problem" in row[1] and "CERTIFICATE" in row[1].upper()


def test_wrong_password_sends_nothing_and_the_password_is_never_logged(
    conn, env, empty_queue, certificate, caplog
):
    with MailServer(
        tls_context=server_context(certificate), require_starttls=True, authenticator=Logins()
    ) as server:
        url = f"smtp://mailer:wrong-secret-value@127.0.0.1:{server.port}?starttls=require&timeout=10"
        result, row = send_one(conn, env, url, certificate)
        assert result["sent"] == 0 and server.recorder.messages == []
    assert row[0] in ("scheduled", "failed")
    assert "wrong-secret-value" not in caplog.text and "wrong-secret-value" not in (row[1] or "")


@pytest.mark.parametrize("scheme", ["smtps", "smtp"])
def test_a_mailbox_sends_over_implicit_tls_and_over_starttls(conn, env, empty_queue, certificate, scheme):
    """A mailbox's connection goes to the checked address and TLS still verifies the name (here
    the certificate's 127.0.0.1): smtps:// from the first byte, smtp:// with STARTTLS."""
    logins = Logins()
    tls = (
        {"ssl_context": server_context(certificate)}
        if scheme == "smtps"
        else {"tls_context": server_context(certificate), "require_starttls": True}
    )
    # aiosmtpd offers AUTH under implicit TLS only when not asked to require STARTTLS first.
    with MailServer(authenticator=logins, auth_require_tls=scheme == "smtp", **tls) as server:
        env(
            MAIL_TRANSPORT="file",
            ALLOW_PRIVATE_NETWORK="true",
            SEND_DOMAIN_SPACING_SECONDS=0,
            SEND_RATE_PER_SECOND=0,
            SSL_CERT_FILE=str(certificate[0]),
        )
        org, campaign, contact = prospect(conn)
        url = f"{scheme}://mailer:s3cret%20pass@127.0.0.1:{server.port}"
        conn.execute("SELECT public.add_mailbox(%s, 'ana@team.example', %s)", (org, url))
        flow = f.flow(conn, campaign, contact)
        assert sender.run()["sent"] == 1 and status(conn, flow)[0] == "sent"
        assert server.recorder.senders == ["ana@team.example"]
    assert logins.attempts and all(ok for _, ok in logins.attempts)
