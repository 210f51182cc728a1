"""Test fixtures: one fresh database per test session, on the embedded server or DATABASE_URL.

Tests never share rows: each one makes its own organization with the factories.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="outreach-test-"))

# Before any product module reads its settings.
os.environ.setdefault("WEBHOOK_SECRET", "test-webhook-secret-" + secrets.token_hex(8))
os.environ.setdefault("UNSUBSCRIBE_SECRET", "test-unsubscribe-secret-" + secrets.token_hex(8))
os.environ.setdefault("SUPABASE_JWT_SECRET", "test-jwt-secret-" + secrets.token_hex(16))
os.environ.setdefault("PUBLIC_BASE_URL", "https://outreach.test")
# Nothing here touches the internet: the address checks' DNS part is on only in its own tests,
# against a local DNS server.
os.environ["EMAIL_CHECK_DELIVERABILITY"] = "false"
# The sending domains' SPF and DMARC gate likewise: on only in tests about it.
os.environ["SENDER_DOMAIN_CHECK"] = "off"
os.environ["DATA_DIR"] = str(_TMP / "data")
for name in ("K_SERVICE", "LLM_BASE_URL", "SEARCH_PROVIDER", "MAIL_TRANSPORT", "SMTP_URL"):
    os.environ.pop(name, None)

_SERVER_URL = os.environ.pop("DATABASE_URL", None)


def _server_url() -> str:
    if _SERVER_URL:
        return _SERVER_URL
    from local import embedded

    return embedded.start((ROOT / ".data" / "pgtest").resolve())


@pytest.fixture(scope="session")
def database_url():
    from local import migrate
    from shared.core import db
    from shared.core.config import get_settings

    server = _server_url()
    name = f"outreach_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(server, dbname=name)
    migrate.apply(url)
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    db.close_pool()
    yield url
    db.close_pool()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def conn(database_url):
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def tmp_data_dir() -> Path:
    return Path(os.environ["DATA_DIR"])


@pytest.fixture
def env(monkeypatch):
    """Set environment variables for one test; the settings are read again before and after."""
    from shared.core.config import get_settings

    def set_env(**values):
        for key, value in values.items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, str(value))
        get_settings.cache_clear()

    yield set_env
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def empty_queue(conn):
    """send_due works on every organization's due rows: start from a queue with none."""
    conn.execute(
        "UPDATE outreach_flows SET status = 'canceled', status_reason = 'test isolation'"
        " WHERE status IN ('scheduled', 'sending')"
    )
    conn.execute("DELETE FROM send_spacing")


@pytest.fixture
def fresh_database(database_url):
    """An empty, migrated database of its own, for tests that run the whole stack."""
    from psycopg.conninfo import make_conninfo

    from local import migrate

    name = f"outreach_fresh_{secrets.token_hex(4)}"
    server = make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(database_url, dbname=name)
    migrate.apply(url)
    yield url
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
