"""Row level security (promise 4): SQL run as Supabase's `authenticated` role with the caller's
claims, as PostgREST runs it. A member of A sees none of B's rows and cannot write into B."""

from __future__ import annotations

import pytest
from psycopg import errors

from tests import factories as f
from tests.helpers import as_role

TABLES = {
    "organizations": "id",
    "organization_members": "organization_id",
    "campaigns": "organization_id",
    "search_tasks": "(SELECT organization_id FROM campaigns c WHERE c.id = campaign_id)",
    "scrape_results": "(SELECT c.organization_id FROM search_tasks t JOIN campaigns c ON c.id = t.campaign_id"
    " WHERE t.id = search_task_id)",
    "contacts": "organization_id",
    "campaign_contacts": "(SELECT organization_id FROM campaigns c WHERE c.id = campaign_id)",
    "outreach_flows": "(SELECT organization_id FROM campaigns c WHERE c.id = campaign_id)",
    "campaign_unsubscribes": "(SELECT organization_id FROM campaigns c WHERE c.id = campaign_id)",
    "mailboxes": "organization_id",
    "inbound_messages": "organization_id",
    "contact_forms": "organization_id",
    "inbound_quarantine": "organization_id",
    "sender_domain_checks": "organization_id",
    "sender_domain_status": "organization_id",
    "campaign_sender_domain_problems": "organization_id",
    "feedback_reports": "organization_id",
    "complaint_rates": "organization_id",
    "webhook_endpoints": "organization_id",
    "webhook_deliveries": "organization_id",
    "campaign_flow_counts": "organization_id",
    "private.flow_tally": "organization_id",
    "private.flow_rollup": "organization_id",
    "private.campaign_contact_tally": "organization_id",
    "private.campaign_contact_rollup": "organization_id",
}


def tenant(conn):
    """An organization with an admin, a member and a row in every table."""
    org_id = f.org(conn)
    admin, member = f.user(conn), f.user(conn)
    f.member(conn, org_id, admin, "admin")
    f.member(conn, org_id, member, "member")
    _, campaign_id, contact_id = f.prospect(conn, org_id)
    task_id = f.search_task(conn, campaign_id, status="completed")
    scrape_id = f.scrape_result(conn, task_id, status="completed")
    flow_id = f.flow(conn, campaign_id, contact_id, status="draft")
    mailbox = conn.execute(
        "SELECT public.add_mailbox(%s, 'ana@team.example', 'smtp://u:p@smtp.team.example:587')", (org_id,)
    ).fetchone()[0]
    # An endpoint, so that the reply below leaves a delivery in the outbox.
    conn.execute(
        "SELECT * FROM public.add_webhook(%s, 'https://hooks.team.example/', ARRAY['reply.received'])",
        (org_id,),
    )
    conn.execute(
        "INSERT INTO inbound_messages (organization_id, mailbox_id, contact_id, campaign_id, flow_id, kind, fingerprint)"
        " VALUES (%s, %s, %s, %s, %s, 'reply', '<r@x>')",
        (org_id, mailbox, contact_id, campaign_id, flow_id),
    )
    conn.execute(
        "INSERT INTO contact_forms (organization_id, scrape_result_id, site, page_url, action, method, enctype, fields, roles)"
        " VALUES (%s, %s, 'x.com', 'https://x.com/', 'https://x.com/', 'post', 'multipart/form-data', '[]', '{}')",
        (org_id, scrape_id),
    )
    conn.execute(
        "INSERT INTO inbound_quarantine (organization_id, mailbox_id, uidvalidity, uid, problem, reason)"
        " VALUES (%s, %s, 1, 1, 'unreadable', 'test')",
        (org_id, mailbox),
    )
    conn.execute(
        "UPDATE sender_domain_checks SET checked_at = now(), problem = 'team.example has no DMARC record'"
        " WHERE organization_id = %s AND domain = 'team.example'",
        (org_id,),
    )
    conn.execute(
        "INSERT INTO feedback_reports (organization_id, mailbox_id, flow_id, contact_id, feedback_type, fingerprint)"
        " VALUES (%s, %s, %s, %s, 'abuse', '<arf@x>')",
        (org_id, mailbox, flow_id, contact_id),
    )
    conn.execute(
        "INSERT INTO campaign_unsubscribes (campaign_id, contact_id) VALUES (%s, %s)",
        (campaign_id, contact_id),
    )
    conn.execute("SELECT private.refresh_campaign_stats()")  # the stats' tallies hold its rows too
    return {
        "org": org_id,
        "admin": admin,
        "member": member,
        "campaign": campaign_id,
        "contact": contact_id,
        "task": task_id,
    }


@pytest.fixture
def tenants(conn):
    return tenant(conn), tenant(conn)


def visible(connection, table: str, org_id) -> int:
    return connection.execute(
        f"SELECT count(*) FROM {table} WHERE {TABLES[table]} = %s", (org_id,)
    ).fetchone()[0]


@pytest.mark.parametrize("table", list(TABLES))
def test_member_sees_own_rows_and_none_of_another_organization(database_url, tenants, table):
    a, b = tenants
    with as_role(database_url, "authenticated", a["member"]) as connection:
        assert visible(connection, table, a["org"]) >= 1
        assert visible(connection, table, b["org"]) == 0


@pytest.mark.parametrize("table", list(TABLES))
def test_member_sees_nothing_in_unfiltered_scan_of_another_organization(database_url, tenants, table):
    a, b = tenants
    with as_role(database_url, "authenticated", b["admin"]) as connection:
        rows = connection.execute(f"SELECT {TABLES[table]} FROM {table}").fetchall()
    assert rows and {r[0] for r in rows} == {b["org"]}


INSERTS_INTO_B = {
    "campaigns": ("INSERT INTO campaigns (organization_id, campaign_name) VALUES (%(org)s, 'mine now')", {}),
    "contacts": ("INSERT INTO contacts (organization_id, email) VALUES (%(org)s, 'x@evil.example')", {}),
    "organization_members": (
        "INSERT INTO organization_members (organization_id, user_id, role) VALUES (%(org)s, %(me)s, 'admin')",
        {},
    ),
    "search_tasks": ("INSERT INTO search_tasks (campaign_id, search_query) VALUES (%(campaign)s, 'q')", {}),
    "scrape_results": (
        "INSERT INTO scrape_results (search_task_id, website_url) VALUES (%(task)s, 'https://x.example/')",
        {},
    ),
    "campaign_unsubscribes": (
        "INSERT INTO campaign_unsubscribes (campaign_id, contact_id) VALUES (%(campaign)s, %(contact)s)",
        {},
    ),
}


@pytest.mark.parametrize("table", list(INSERTS_INTO_B))
def test_admin_of_a_cannot_insert_into_b(database_url, tenants, table):
    a, b = tenants
    statement, _ = INSERTS_INTO_B[table]
    # Refused by row level security, or, where members never insert, by the missing grant.
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security|permission denied"):
        with as_role(database_url, "authenticated", a["admin"]) as connection:
            connection.execute(statement, {**b, "me": a["admin"]})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE campaigns SET campaign_name = 'hijacked' WHERE organization_id = %(org)s",
        "UPDATE contacts SET name = 'stolen' WHERE organization_id = %(org)s",
        "UPDATE outreach_flows SET status = 'scheduled' WHERE campaign_id = %(campaign)s",
        "DELETE FROM organization_members WHERE organization_id = %(org)s",
        "UPDATE organizations SET org_name = 'hijacked' WHERE id = %(org)s",
    ],
)
def test_admin_of_a_cannot_change_b(database_url, conn, tenants, statement):
    a, b = tenants
    with as_role(database_url, "authenticated", a["admin"]) as connection:
        assert connection.execute(statement, b).rowcount == 0
    assert conn.execute("SELECT campaign_name FROM campaigns WHERE id = %s", (b["campaign"],)).fetchone() == (
        "Test campaign",
    )


def test_only_admins_change_campaigns_and_members(database_url, tenants):
    a, _ = tenants
    with as_role(database_url, "authenticated", a["member"]) as connection:
        assert (
            connection.execute(
                "UPDATE campaigns SET status = 'paused' WHERE id = %s", (a["campaign"],)
            ).rowcount
            == 0
        )
        assert (
            connection.execute(
                "UPDATE organization_members SET role = 'admin' WHERE user_id = %s", (a["member"],)
            ).rowcount
            == 0
        )
    with pytest.raises(errors.InsufficientPrivilege):
        with as_role(database_url, "authenticated", a["member"]) as connection:
            connection.execute(
                "INSERT INTO campaigns (organization_id, campaign_name) VALUES (%s, 'by a member')",
                (a["org"],),
            )
    with as_role(database_url, "authenticated", a["admin"]) as connection:
        assert (
            connection.execute(
                "UPDATE campaigns SET status = 'paused' WHERE id = %s", (a["campaign"],)
            ).rowcount
            == 1
        )


def test_member_approves_a_draft_but_cannot_mark_it_sent(database_url, tenants):
    a, _ = tenants
    with as_role(database_url, "authenticated", a["member"]) as connection:
        assert (
            connection.execute(
                "UPDATE outreach_flows SET status = 'scheduled' WHERE campaign_id = %s", (a["campaign"],)
            ).rowcount
            == 1
        )
    with pytest.raises(errors.InsufficientPrivilege):
        with as_role(database_url, "authenticated", a["member"]) as connection:
            connection.execute(
                "UPDATE outreach_flows SET status = 'sent' WHERE campaign_id = %s", (a["campaign"],)
            )


@pytest.mark.parametrize("table", list(TABLES))
def test_anon_sees_nothing(database_url, tenants, table):
    with pytest.raises(errors.InsufficientPrivilege), as_role(database_url, "anon") as connection:
        connection.execute(f"SELECT count(*) FROM {table}")


def test_signed_in_user_without_membership_sees_nothing(database_url, conn, tenants):
    loner = f.user(conn)
    with as_role(database_url, "authenticated", loner) as connection:
        for table in TABLES:
            assert connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_every_public_table_has_row_level_security(conn):
    missing = conn.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        " AND NOT relrowsecurity"
    ).fetchall()
    assert missing == []


def test_functions_connection_still_sees_everything(conn, tenants):
    a, b = tenants
    assert conn.execute(
        "SELECT count(DISTINCT organization_id) FROM campaigns WHERE organization_id IN (%s, %s)",
        (a["org"], b["org"]),
    ).fetchone() == (2,)
