"""The schema: the original schema's test plan (tests A to D) and every constraint and
trigger the later migrations add."""

from __future__ import annotations

import time

import psycopg
import pytest
from psycopg import errors

from local import migrate
from tests import factories as f

ROOT = migrate.ROOT


def test_first_migration_is_the_seed_sql_byte_for_byte():
    path = ROOT.parent / "shared" / "seed" / "000_ea169cb63fca3f2a.txt"
    if not path.exists():
        pytest.skip("the reference specification is not beside the checkout")
    seed = path.read_text(encoding="utf-8")
    start = seed.index("```sql\n") + len("```sql\n")
    block = seed[start : seed.index("```", start)]
    first = migrate.discover()[0]
    assert first.path.read_bytes() == block.encode("utf-8")


def test_every_migration_is_recorded_like_the_supabase_cli(conn):
    rows = conn.execute(
        "SELECT version, name, statements[1] FROM supabase_migrations.schema_migrations ORDER BY version"
    ).fetchall()
    found = migrate.discover()
    assert [r[0] for r in rows] == [m.version for m in found]
    assert rows[0][2] == found[0].path.read_text(encoding="utf-8")


# Test A: a basic insert down the whole chain.
def test_a_basic_insert_chain(conn):
    user_id = f.user(conn)
    org_id = f.org(conn)
    f.member(conn, org_id, user_id, "admin")
    campaign_id = f.campaign(conn, org_id, created_by=user_id)
    task_id = f.search_task(conn, campaign_id)
    scrape_id = f.scrape_result(conn, task_id)
    contact_id = f.contact(conn, org_id, "myLead@example.com", source_scrape_id=scrape_id)
    f.link(conn, campaign_id, contact_id)
    flow_id = f.flow(conn, campaign_id, contact_id, status="scheduled")
    row = conn.execute(
        "SELECT c.organization_id, o.status, o.flow_type FROM outreach_flows o"
        " JOIN contacts c ON c.id = o.contact_id WHERE o.id = %s",
        (flow_id,),
    ).fetchone()
    assert row == (org_id, "scheduled", "email")


# Test B: a campaign unsubscribe and a global one are both recorded.
def test_b_partial_and_global_unsubscribe(conn):
    org_id, campaign_id, contact_id = f.prospect(conn)
    conn.execute(
        "INSERT INTO campaign_unsubscribes (campaign_id, contact_id, reason) VALUES (%s, %s, 'not now')",
        (campaign_id, contact_id),
    )
    conn.execute("UPDATE contacts SET unsubscribe_requested = true WHERE id = %s", (contact_id,))
    assert conn.execute(
        "SELECT count(*) FROM campaign_unsubscribes WHERE contact_id = %s", (contact_id,)
    ).fetchone() == (1,)
    assert conn.execute(
        "SELECT unsubscribe_requested FROM contacts WHERE id = %s", (contact_id,)
    ).fetchone() == (True,)


# Test C: the same email in two organizations is two contacts.
def test_c_same_email_in_another_organization(conn):
    first, second = f.org(conn), f.org(conn)
    f.contact(conn, first, "shared@example.com")
    f.contact(conn, second, "shared@example.com")
    f.campaign(conn, second)
    count = conn.execute(
        "SELECT count(*) FROM contacts WHERE lower(email) = 'shared@example.com'"
        " AND organization_id IN (%s, %s)",
        (first, second),
    ).fetchone()[0]
    assert count == 2


# Test D: edge cases.
def test_d_long_formatted_phone_is_accepted(conn):
    org_id = f.org(conn)
    phone = "+1 (305) 123-4567 ext. 89012345678901234567890"
    contact_id = f.contact(conn, org_id, phone=phone)
    assert conn.execute("SELECT phone FROM contacts WHERE id = %s", (contact_id,)).fetchone() == (phone,)


def test_d_form_submission_flow(conn):
    _, campaign_id, contact_id = f.prospect(conn)
    flow_id = f.flow(conn, campaign_id, contact_id, flow_type="form_submission")
    assert conn.execute("SELECT flow_type FROM outreach_flows WHERE id = %s", (flow_id,)).fetchone() == (
        "form_submission",
    )


def test_d_duplicate_email_refused_whatever_its_case(conn):
    org_id = f.org(conn)
    f.contact(conn, org_id, "TEST@Example.com")
    with pytest.raises(errors.UniqueViolation):
        f.contact(conn, org_id, "test@example.com")


@pytest.mark.parametrize("table", ["campaign_contacts", "outreach_flows", "campaign_unsubscribes"])
def test_cross_organization_link_refused(conn, table):
    campaign_id = f.campaign(conn, f.org(conn))
    stranger = f.contact(conn, f.org(conn))
    statements = {
        "campaign_contacts": "INSERT INTO campaign_contacts (campaign_id, contact_id) VALUES (%s, %s)",
        "outreach_flows": "INSERT INTO outreach_flows (campaign_id, contact_id) VALUES (%s, %s)",
        "campaign_unsubscribes": "INSERT INTO campaign_unsubscribes (campaign_id, contact_id) VALUES (%s, %s)",
    }
    with pytest.raises(errors.CheckViolation, match="different organizations"):
        conn.execute(statements[table], (campaign_id, stranger))
    assert conn.execute(f"SELECT count(*) FROM {table} WHERE contact_id = %s", (stranger,)).fetchone() == (0,)


def test_cross_organization_update_refused(conn):
    _, campaign_id, contact_id = f.prospect(conn)
    stranger = f.contact(conn, f.org(conn))
    with pytest.raises(errors.CheckViolation):
        conn.execute(
            "UPDATE campaign_contacts SET contact_id = %s WHERE campaign_id = %s AND contact_id = %s",
            (stranger, campaign_id, contact_id),
        )


UNKNOWN_VALUES = [
    ("organization_members", "role", "owner"),
    ("campaigns", "status", "archived"),
    ("search_tasks", "status", "done"),
    ("scrape_results", "status", "ok"),
    ("contacts", "reached_status", "maybe"),
    ("campaign_contacts", "status", "later"),
    ("outreach_flows", "status", "queued"),
    ("outreach_flows", "flow_type", "sms"),
]


@pytest.mark.parametrize(("table", "column", "value"), UNKNOWN_VALUES)
def test_unknown_status_refused(conn, table, column, value):
    org_id, campaign_id, contact_id = f.prospect(conn)
    user_id = f.user(conn)
    f.member(conn, org_id, user_id)
    task_id = f.search_task(conn, campaign_id)
    f.scrape_result(conn, task_id)
    f.flow(conn, campaign_id, contact_id)
    keys = {
        "organization_members": ("organization_id", org_id),
        "campaigns": ("id", campaign_id),
        "search_tasks": ("id", task_id),
        "scrape_results": ("search_task_id", task_id),
        "contacts": ("id", contact_id),
        "campaign_contacts": ("contact_id", contact_id),
        "outreach_flows": ("contact_id", contact_id),
    }
    key, key_value = keys[table]
    with pytest.raises(errors.CheckViolation):
        conn.execute(f"UPDATE {table} SET {column} = %s WHERE {key} = %s", (value, key_value))


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("scrape_results", "status", "skipped"),
        ("contacts", "reached_status", "bounced"),
        ("contacts", "reached_status", "complained"),
        ("outreach_flows", "status", "sending"),
        ("outreach_flows", "status", "draft"),
    ],
)
def test_pipeline_states_allowed(conn, table, column, value):
    _, campaign_id, contact_id = f.prospect(conn)
    task_id = f.search_task(conn, campaign_id)
    f.scrape_result(conn, task_id)
    f.flow(conn, campaign_id, contact_id)
    key = {"scrape_results": ("search_task_id", task_id), "contacts": ("id", contact_id)}.get(
        table, ("contact_id", contact_id)
    )
    assert (
        conn.execute(f"UPDATE {table} SET {column} = %s WHERE {key[0]} = %s", (value, key[1])).rowcount == 1
    )


def test_one_scrape_result_per_task_and_url(conn):
    task_id = f.search_task(conn, f.campaign(conn))
    f.scrape_result(conn, task_id, "https://studio.example/")
    with pytest.raises(errors.UniqueViolation):
        f.scrape_result(conn, task_id, "https://studio.example/")
    f.scrape_result(conn, f.search_task(conn, f.campaign(conn)), "https://studio.example/")


def test_one_flow_per_campaign_contact_and_step(conn):
    _, campaign_id, contact_id = f.prospect(conn)
    f.flow(conn, campaign_id, contact_id, step=0)
    f.flow(conn, campaign_id, contact_id, step=1)
    with pytest.raises(errors.UniqueViolation):
        f.flow(conn, campaign_id, contact_id, step=1)


def test_one_campaign_unsubscribe_per_campaign_and_contact(conn):
    _, campaign_id, contact_id = f.prospect(conn)
    sql = "INSERT INTO campaign_unsubscribes (campaign_id, contact_id) VALUES (%s, %s)"
    conn.execute(sql, (campaign_id, contact_id))
    with pytest.raises(errors.UniqueViolation):
        conn.execute(sql, (campaign_id, contact_id))


def test_one_membership_per_user_and_organization(conn):
    org_id, user_id = f.org(conn), f.user(conn)
    f.member(conn, org_id, user_id)
    with pytest.raises(errors.UniqueViolation):
        f.member(conn, org_id, user_id, "admin")


def test_word_limit_and_email_shape_checked(conn):
    with pytest.raises(errors.CheckViolation):
        f.campaign(conn, word_limit=5)
    with pytest.raises(errors.CheckViolation):
        f.contact(conn, f.org(conn), "not-an-address")


@pytest.mark.parametrize(
    ("table", "update"),
    [
        ("organizations", "org_name = org_name || '!'"),
        ("campaigns", "campaign_name = 'renamed'"),
        ("contacts", "name = 'Ana'"),
        ("campaign_contacts", "attempts = attempts + 1"),
        ("outreach_flows", "subject = 'changed'"),
        ("search_tasks", "attempts = attempts + 1"),
        ("scrape_results", "attempts = attempts + 1"),
    ],
)
def test_updated_at_kept_current(conn, table, update):
    org_id, campaign_id, contact_id = f.prospect(conn)
    task_id = f.search_task(conn, campaign_id)
    f.scrape_result(conn, task_id)
    f.flow(conn, campaign_id, contact_id)
    where = {
        "organizations": ("id", org_id),
        "campaigns": ("id", campaign_id),
        "contacts": ("id", contact_id),
        "campaign_contacts": ("contact_id", contact_id),
        "outreach_flows": ("contact_id", contact_id),
        "search_tasks": ("id", task_id),
        "scrape_results": ("search_task_id", task_id),
    }[table]
    before = conn.execute(f"SELECT updated_at FROM {table} WHERE {where[0]} = %s", (where[1],)).fetchone()[0]
    time.sleep(0.01)
    after = conn.execute(
        f"UPDATE {table} SET {update} WHERE {where[0]} = %s RETURNING updated_at", (where[1],)
    ).fetchone()[0]
    assert after > before


def test_every_foreign_key_is_indexed(conn):
    """Each foreign key's columns lead some index, so joins and cascades never scan."""
    missing = conn.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
          AND NOT EXISTS (
            SELECT 1 FROM pg_index i
            WHERE i.indrelid = c.conrelid
              AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey
          )
        """
    ).fetchall()
    assert missing == []


def test_auth_helpers_read_request_claims(conn):
    with conn.transaction():
        conn.execute(
            "SELECT set_config('request.jwt.claims', %s, true)",
            ('{"sub": "00000000-0000-4000-8000-000000000009", "role": "authenticated"}',),
        )
        assert conn.execute("SELECT auth.uid()::text, auth.role(), auth.jwt() ->> 'role'").fetchone() == (
            "00000000-0000-4000-8000-000000000009",
            "authenticated",
            "authenticated",
        )


def test_seed_loads_twice(database_url):
    migrate.apply_seed(database_url)
    migrate.apply_seed(database_url)
    with psycopg.connect(database_url) as conn:
        assert conn.execute(
            "SELECT role FROM organization_members WHERE user_id = '00000000-0000-4000-8000-000000000001'"
        ).fetchall() == [("admin",)]
