"""The database webhook trigger: Supabase's payload, sent by pg_notify here, or by pg_net with
the URL and secret from Vault where those exist (as on Supabase)."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests import factories as f


def test_insert_notifies_with_supabase_payload(database_url, conn):
    campaign_id = f.campaign(conn, f.org(conn))
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN outreach_webhooks")
        task_id = f.search_task(conn, campaign_id, "spin studios")
        notes = list(listener.notifies(timeout=5, stop_after=1))
    message = json.loads(notes[0].payload)
    assert message["function"] == "run_search"
    payload = message["payload"]
    assert set(payload) == {"type", "table", "schema", "record", "old_record"}
    assert (payload["type"], payload["table"], payload["schema"], payload["old_record"]) == (
        "INSERT",
        "search_tasks",
        "public",
        None,
    )
    assert payload["record"]["id"] == str(task_id) and payload["record"]["search_query"] == "spin studios"


@pytest.mark.parametrize(
    ("table", "function"), [("scrape_results", "scrape_url"), ("campaign_contacts", "draft_message")]
)
def test_each_stage_table_fires_its_function(database_url, conn, table, function):
    org_id = f.org(conn)
    campaign_id = f.campaign(conn, org_id)
    task_id = f.search_task(conn, campaign_id)
    contact_id = f.contact(conn, org_id)
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN outreach_webhooks")
        if table == "scrape_results":
            f.scrape_result(conn, task_id)
        else:
            f.link(conn, campaign_id, contact_id)
        message = json.loads(next(iter(listener.notifies(timeout=5, stop_after=1))).payload)
    assert message["function"] == function and message["payload"]["table"] == table


def test_nothing_is_sent_for_a_rolled_back_insert(database_url, conn):
    campaign_id = f.campaign(conn, f.org(conn))
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN outreach_webhooks")
        with psycopg.connect(database_url) as writer:
            writer.execute(
                "INSERT INTO search_tasks (campaign_id, search_query) VALUES (%s, 'x')", (campaign_id,)
            )
            writer.rollback()
        assert list(listener.notifies(timeout=1, stop_after=1)) == []


@pytest.fixture
def supabase_like(conn):
    """pg_net's net.http_post, recorded instead of sent, and the Vault entries deploy.sh writes."""
    conn.execute("""
        CREATE SCHEMA net;
        CREATE TABLE net.sent (url text, body jsonb, headers jsonb, timeout_milliseconds int);
        CREATE FUNCTION net.http_post(url text, body jsonb, params jsonb DEFAULT '{}', headers jsonb DEFAULT '{}',
                                      timeout_milliseconds int DEFAULT 5000) RETURNS bigint
        LANGUAGE sql AS $$ INSERT INTO net.sent VALUES (url, body, headers, timeout_milliseconds) RETURNING 1::bigint $$;
        SELECT vault.create_secret('https://europe-west1-acme.cloudfunctions.net/', 'outreach_functions_url');
        SELECT vault.create_secret('s3cret-from-vault', 'outreach_webhook_secret');
    """)
    yield
    conn.execute("DROP SCHEMA net CASCADE;")
    conn.execute(
        "DELETE FROM vault.secrets WHERE name IN ('outreach_functions_url', 'outreach_webhook_secret')"
    )


def test_on_supabase_the_trigger_posts_with_pg_net(conn, supabase_like):
    org_id = f.org(conn)
    campaign_id = f.campaign(conn, org_id)
    contact_id = f.contact(conn, org_id)
    f.link(conn, campaign_id, contact_id)
    url, body, headers, timeout = conn.execute("SELECT * FROM net.sent").fetchone()
    assert url == "https://europe-west1-acme.cloudfunctions.net/draft_message"
    assert headers == {"Content-Type": "application/json", "X-Webhook-Secret": "s3cret-from-vault"}
    assert timeout >= 5000
    assert body["table"] == "campaign_contacts" and body["record"]["contact_id"] == str(contact_id)


def test_no_secret_or_url_in_any_migration():
    from local import migrate

    for m in migrate.discover():
        text = m.path.read_text()
        assert "cloudfunctions.net" not in text and "X-Webhook-Secret', '" not in text, m.path.name
