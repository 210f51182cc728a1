"""Members through Supabase's Data API, run as PostgREST runs a request: one transaction,
`set local role authenticated` (or anon), `request.jwt.claims` set. Every privilege of every
role is compared with what is declared here, so a new table, column or function without its
grants fails the suite."""

from __future__ import annotations

import json
import re

import pytest
from psycopg import errors

from tests import factories as f
from tests.helpers import as_role
from tests.integration.test_rls import tenant

MEMBER_TABLES = {
    "organizations",
    "organization_members",
    "campaigns",
    "search_tasks",
    "scrape_results",
    "contacts",
    "campaign_contacts",
    "outreach_flows",
    "campaign_unsubscribes",
    "sender_domains",
    "campaign_stats",
    "campaign_reply_stats",
    "campaign_flow_counts",
    "inbound_messages",
    "public_mail_domains",
    "contact_forms",
    "inbound_quarantine",
    "sender_domain_checks",
    "sender_domain_status",
    "campaign_sender_domain_problems",
    "feedback_reports",
    "complaint_rates",
    "webhook_deliveries",
}
# (role, table, privilege) beyond SELECT on MEMBER_TABLES for authenticated.
TABLE_GRANTS = {
    ("authenticated", "organization_members", "DELETE"),
    ("authenticated", "mailboxes", "DELETE"),
    ("authenticated", "webhook_endpoints", "DELETE"),
}
COLUMN_GRANTS = {
    ("organizations", "UPDATE"): {"org_name", "daily_send_cap"},
    ("organization_members", "INSERT"): {"organization_id", "user_id", "role"},
    ("organization_members", "UPDATE"): {"role"},
    ("campaigns", "UPDATE"): {
        "campaign_name",
        "instructions",
        "tone",
        "word_limit",
        "ai_settings",
        "default_language",
        "status",
    },
    ("contacts", "INSERT"): {
        "organization_id",
        "email",
        "phone",
        "name",
        "language_preference",
        "extra_data",
    },
    ("contacts", "UPDATE"): {
        "name",
        "phone",
        "language_preference",
        "extra_data",
        "unsubscribe_requested",
        "unsubscribe_reason",
        "reached_status",
    },
    ("campaign_contacts", "INSERT"): {"campaign_id", "contact_id"},
    ("outreach_flows", "UPDATE"): {"subject", "body", "status", "scheduled_send_time"},
    ("campaign_unsubscribes", "INSERT"): {"campaign_id", "contact_id", "reason"},
    # Everything but the credentials' Vault ids and the reading cursor.
    ("mailboxes", "SELECT"): {
        "id",
        "organization_id",
        "email",
        "display_name",
        "smtp_endpoint",
        "imap_endpoint",
        "daily_cap",
        "ramp_start",
        "ramp_step",
        "active",
        "smtp_error",
        "smtp_error_at",
        "send_blocked_until",
        "imap_error",
        "imap_error_at",
        "last_synced_at",
        "created_at",
        "updated_at",
        "paused_reason",
        "sync_retry_at",
        "dkim_selectors",
    },
    ("mailboxes", "UPDATE"): {
        "display_name",
        "daily_cap",
        "ramp_start",
        "ramp_step",
        "active",
        "dkim_selectors",
    },
    ("inbound_quarantine", "UPDATE"): {"read_again"},
    # Everything but the secret's Vault id; endpoints are added through add_webhook only.
    ("webhook_endpoints", "SELECT"): {
        "id",
        "organization_id",
        "url",
        "events",
        "active",
        "created_at",
        "updated_at",
    },
    ("webhook_endpoints", "UPDATE"): {"active"},
}
FUNCTION_GRANTS = {
    ("public.add_contacts", "authenticated"),
    ("public.add_contacts", "service_role"),
    ("public.contact_data", "authenticated"),
    ("public.contact_data", "service_role"),
    ("public.add_mailbox", "authenticated"),
    ("public.add_mailbox", "service_role"),
    ("public.add_webhook", "authenticated"),
    ("public.add_webhook", "service_role"),
    ("public.search_contacts", "authenticated"),
    ("public.search_contacts", "service_role"),
    ("public.contact_data_by_id", "authenticated"),
    ("public.contact_data_by_id", "service_role"),
    ("private.my_organizations", "authenticated"),
    ("private.flow_changes", "authenticated"),
    ("private.flow_changes", "service_role"),
    ("private.campaign_contact_changes", "authenticated"),
    ("private.campaign_contact_changes", "service_role"),
    ("private.user_organizations", "authenticated"),
    ("private.user_admin_organizations", "authenticated"),
    ("private.unknown_key", "authenticated"),
}
ROLES = "('anon', 'authenticated', 'service_role')"


def table_privileges(conn) -> set[tuple[str, str, str]]:
    return set(
        conn.execute(
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END, c.relname,"
            " a.privilege_type FROM pg_class c, aclexplode(c.relacl) a"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')"
            f" AND (a.grantee = 0 OR a.grantee::regrole::text IN {ROLES})"
        ).fetchall()
    )


def test_every_table_privilege_is_declared(conn):
    tables = {
        r[0]
        for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v', 'm', 'p')"
        ).fetchall()
    }
    every = {
        r[0]
        for r in conn.execute("SELECT a.privilege_type FROM aclexplode(acldefault('r', 10)) a").fetchall()
    }
    expected = {("service_role", t, p) for t in tables for p in every}
    expected |= {("authenticated", t, "SELECT") for t in MEMBER_TABLES} | TABLE_GRANTS
    assert table_privileges(conn) == expected


def test_every_column_privilege_is_declared(conn):
    rows = conn.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END, c.relname,"
        " att.attname, a.privilege_type"
        " FROM pg_class c JOIN pg_attribute att ON att.attrelid = c.oid, aclexplode(att.attacl) a"
        " WHERE c.relnamespace = 'public'::regnamespace"
    ).fetchall()
    granted: dict[tuple[str, str], set[str]] = {}
    for role, table, column, privilege in rows:
        assert role == "authenticated", (role, table, column, privilege)
        granted.setdefault((table, privilege), set()).add(column)
    assert granted == COLUMN_GRANTS


def test_every_function_privilege_is_declared(conn):
    rows = conn.execute(
        "SELECT n.nspname || '.' || p.proname,"
        " CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,"
        " aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a"
        " WHERE n.nspname IN ('public', 'private') AND a.privilege_type = 'EXECUTE'"
        f" AND (a.grantee = 0 OR a.grantee::regrole::text IN {ROLES})"
    ).fetchall()
    assert set(rows) == FUNCTION_GRANTS


def test_a_new_object_gets_nothing_until_granted(conn):
    # Default privileges are revoked once: a table, sequence or function created after the
    # migrations (and not granted) is closed to PUBLIC, anon and authenticated.
    with conn.transaction(force_rollback=True):
        conn.execute("CREATE TABLE public.made_later (id bigserial PRIMARY KEY)")
        conn.execute("CREATE FUNCTION public.made_later_f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        conn.execute("CREATE FUNCTION private.made_later_g() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        acls = conn.execute(
            "SELECT c.relname, a.grantee FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a"
            " WHERE c.relname IN ('made_later', 'made_later_id_seq')"
            " UNION ALL SELECT p.proname, a.grantee FROM pg_proc p,"
            " aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a"
            " WHERE p.proname IN ('made_later_f', 'made_later_g')"
        ).fetchall()
        owner = conn.execute("SELECT current_user::regrole::oid").fetchone()[0]
        assert {name for name, _ in acls} == {
            "made_later",
            "made_later_id_seq",
            "made_later_f",
            "made_later_g",
        }
        assert {grantee for _, grantee in acls} == {owner}, acls


@pytest.fixture
def tenants(conn):
    return tenant(conn), tenant(conn)


def refused(database_url, user, statement, params=None, error=errors.InsufficientPrivilege):
    with pytest.raises(error), as_role(database_url, "authenticated", user) as api:
        api.execute(statement, params or {})


@pytest.mark.parametrize("who", ["member", "admin"])
@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("UPDATE contacts SET unsubscribe_requested = false WHERE id = %(contact)s", errors.CheckViolation),
        ("UPDATE contacts SET reached_status = 'pending' WHERE id = %(contact)s", errors.CheckViolation),
        ("DELETE FROM campaign_unsubscribes WHERE campaign_id = %(campaign)s", errors.InsufficientPrivilege),
        ("DELETE FROM contacts WHERE id = %(contact)s", errors.InsufficientPrivilege),
    ],
)
def test_an_opt_out_is_final(database_url, conn, tenants, who, statement, error):
    a, _ = tenants
    for status in ("unsubscribed", "bounced", "complained"):
        contact = f.contact(conn, a["org"], reached_status=status, unsubscribe_requested=True)
        conn.execute(
            "INSERT INTO campaign_unsubscribes (campaign_id, contact_id) VALUES (%s, %s)",
            (a["campaign"], contact),
        )
        refused(database_url, a[who], statement, {**a, "contact": contact}, error)
        still = conn.execute(
            "SELECT reached_status, (SELECT count(*) FROM campaign_unsubscribes WHERE contact_id = c.id)"
            " FROM contacts c WHERE id = %s",
            (contact,),
        ).fetchone()
        assert still == (status, 1)


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE outreach_flows",
        "TRUNCATE contacts CASCADE",
        "SELECT public.suppression_reason(%(contact)s, %(campaign)s)",
        "SELECT public.ensure_same_organization()",
        "SELECT private.campaign_settings_problem('{}')",
        "UPDATE outreach_flows SET message_id = '<x@y>' WHERE campaign_id = %(campaign)s",
        "UPDATE outreach_flows SET sent_at = now() WHERE campaign_id = %(campaign)s",
        "UPDATE outreach_flows SET attempts = 0 WHERE campaign_id = %(campaign)s",
        "UPDATE outreach_flows SET lease_expires_at = NULL WHERE campaign_id = %(campaign)s",
        "UPDATE outreach_flows SET status_reason = 'x' WHERE campaign_id = %(campaign)s",
        "UPDATE outreach_flows SET contact_id = %(contact)s WHERE campaign_id = %(campaign)s",
        "UPDATE outreach_flows SET organization_id = %(org)s WHERE campaign_id = %(campaign)s",
        "UPDATE outreach_flows SET status = 'sent' WHERE campaign_id = %(campaign)s",
        "INSERT INTO search_tasks (campaign_id, search_query) VALUES (%(campaign)s, 'q')",
        "INSERT INTO scrape_results (search_task_id, website_url) VALUES (%(task)s, 'https://x.example/')",
        "INSERT INTO campaigns (organization_id, campaign_name) VALUES (%(org)s, 'direct')",
        "UPDATE contacts SET source_scrape_id = NULL WHERE id = %(contact)s",
        "UPDATE contacts SET email = 'new@x.example' WHERE id = %(contact)s",
        "UPDATE campaigns SET organization_id = %(org)s WHERE id = %(campaign)s",
        "INSERT INTO sender_domains (organization_id, domain) VALUES (%(org)s, 'evil.example')",
    ],
)
def test_what_an_admin_may_never_do(database_url, tenants, statement):
    a, _ = tenants
    refused(database_url, a["admin"], statement, a)


def test_caps_have_a_documented_maximum(database_url, conn, tenants):
    a, _ = tenants
    refused(
        database_url,
        a["admin"],
        "UPDATE organizations SET daily_send_cap = 20000 WHERE id = %(org)s",
        a,
        errors.CheckViolation,
    )
    refused(
        database_url,
        a["admin"],
        "UPDATE campaigns SET ai_settings = '{\"daily_cap\": 20000}' WHERE id = %(campaign)s",
        a,
        errors.CheckViolation,
    )
    with as_role(database_url, "authenticated", a["admin"]) as api:
        assert (
            api.execute("UPDATE organizations SET daily_send_cap = 5000 WHERE id = %(org)s", a).rowcount == 1
        )
    conn.execute("UPDATE organizations SET daily_send_cap = 50000 WHERE id = %s", (a["org"],))  # the operator


def test_a_contact_never_points_at_another_organizations_page(conn, tenants):
    a, b = tenants
    other_page = f.scrape_result(conn, b["task"])
    with pytest.raises(errors.CheckViolation, match="another organization"):
        conn.execute("UPDATE contacts SET source_scrape_id = %s WHERE id = %s", (other_page, a["contact"]))
    with pytest.raises(errors.CheckViolation, match="another organization"):
        f.contact(conn, a["org"], source_scrape_id=other_page)


def test_enrolling_another_organizations_contact_is_refused(database_url, conn, tenants):
    a, b = tenants
    stranger = f.contact(conn, b["org"])
    refused(
        database_url,
        a["member"],
        "INSERT INTO campaign_contacts (campaign_id, contact_id) VALUES (%(campaign)s, %(c)s)",
        {**a, "c": stranger},
        errors.CheckViolation,
    )
    own = f.contact(conn, a["org"])
    refused(
        database_url,
        a["member"],
        "INSERT INTO campaign_contacts (campaign_id, contact_id) VALUES (%(campaign)s, %(c)s)",
        {"campaign": b["campaign"], "c": own},
        (errors.CheckViolation, errors.InsufficientPrivilege),
    )


def test_nobody_adds_themselves_to_another_organization(database_url, tenants):
    # Promoting oneself and changing campaigns as a plain member: test_rls.py.
    a, b = tenants
    for who in ("member", "admin"):
        refused(
            database_url,
            a[who],
            "INSERT INTO organization_members (organization_id, user_id, role) VALUES (%(org)s, %(me)s, 'admin')",
            {"org": b["org"], "me": a[who]},
        )


@pytest.mark.parametrize(
    "statement",
    [
        *(f"SELECT * FROM {table}" for table in sorted(MEMBER_TABLES)),
        'SELECT public.add_contacts(%(org)s, \'[{"email": "a@b.example"}]\')',
        "SELECT private.user_organizations()",
        "UPDATE contacts SET unsubscribe_requested = true",
        "INSERT INTO campaign_unsubscribes (campaign_id, contact_id) VALUES (%(campaign)s, %(contact)s)",
    ],
)
def test_anon_can_do_nothing_at_all(database_url, tenants, statement):
    a, _ = tenants
    with pytest.raises(errors.InsufficientPrivilege), as_role(database_url, "anon") as api:
        api.execute(statement, a)


def test_policies_compute_the_organizations_once_per_statement(database_url, tenants):
    a, _ = tenants
    for table in ("outreach_flows", "contacts", "campaign_contacts", "scrape_results"):
        with as_role(database_url, "authenticated", a["member"]) as api:
            plan = "\n".join(r[0] for r in api.execute(f"EXPLAIN (VERBOSE) SELECT * FROM {table}").fetchall())
        # The policy's test is a filter or, where an index serves it, an index condition.
        conditions = [line for line in plan.splitlines() if re.search(r"(Filter|Cond):", line)]
        assert "InitPlan" in plan and any("organization_id = ANY ($0)" in line for line in conditions), plan
        assert not any(re.search(r"organizations\(|is_org_member", line) for line in conditions), plan


# What members do, each through the Data API.


def test_members_read_their_campaigns_with_stats(database_url, tenants):
    a, b = tenants
    with as_role(database_url, "authenticated", a["member"]) as api:
        rows = api.execute("SELECT campaign_id, outreach_flows FROM campaign_stats").fetchall()
    assert [r[0] for r in rows] == [a["campaign"]] and rows[0][1] == {"draft": 1}


def test_admin_pauses_resumes_and_completes_a_campaign(database_url, conn, tenants):
    a, _ = tenants
    waiting = f.flow(conn, a["campaign"], a["contact"], step=1, status="scheduled")
    with as_role(database_url, "authenticated", a["admin"]) as api:
        for status in ("paused", "active"):
            assert (
                api.execute(
                    "UPDATE campaigns SET status = %s WHERE id = %s", (status, a["campaign"])
                ).rowcount
                == 1
            )
        api.execute("UPDATE campaigns SET status = 'completed' WHERE id = %s", (a["campaign"],))
        left = api.execute(
            "SELECT status, status_reason FROM outreach_flows WHERE id = %s", (waiting,)
        ).fetchone()
    assert left == ("canceled", "canceled: the campaign is completed")


def test_member_reviews_drafts(database_url, conn, tenants):
    a, _ = tenants
    draft = conn.execute("SELECT id FROM outreach_flows WHERE campaign_id = %s", (a["campaign"],)).fetchone()[
        0
    ]
    with as_role(database_url, "authenticated", a["member"]) as api:
        assert (
            api.execute(
                "UPDATE outreach_flows SET subject = 'Better subject', body = 'Edited.' WHERE id = %s",
                (draft,),
            ).rowcount
            == 1
        )
        assert (
            api.execute("UPDATE outreach_flows SET status = 'scheduled' WHERE id = %s", (draft,)).rowcount
            == 1
        )
        assert (
            api.execute("UPDATE outreach_flows SET status = 'canceled' WHERE id = %s", (draft,)).rowcount == 1
        )
        # Once canceled (or sent, or failed), a message is no longer a member's to change.
        assert (
            api.execute("UPDATE outreach_flows SET status = 'scheduled' WHERE id = %s", (draft,)).rowcount
            == 0
        )


def test_member_adds_many_contacts_and_enrolls_them(database_url, conn, tenants):
    a, _ = tenants
    opted_out = f.contact(conn, a["org"], "gone@studio.example", unsubscribe_requested=True)
    contacts = [
        {"email": "Ana@Studio.example", "name": "Ana"},
        {"email": "ben@studio.example", "phone": "+34 600 000 000"},
        {"email": "ana@studio.example"},
        {"email": "not an address"},
        {"email": "gone@studio.example"},
        {"email": "cy@studio.example", "role": "owner"},
        "just text",
    ]
    with as_role(database_url, "authenticated", a["member"]) as api:
        answer = api.execute(
            "SELECT public.add_contacts(%s, %s::jsonb, %s)", (a["org"], json.dumps(contacts), a["campaign"])
        ).fetchone()[0]
        enrolled = api.execute(
            "SELECT count(*) FROM campaign_contacts WHERE campaign_id = %s AND status = 'pending'",
            (a["campaign"],),
        ).fetchone()
    assert [c["email"] for c in answer["added"]] == ["ana@studio.example", "ben@studio.example"]
    assert answer["enrolled"] == 2
    assert {r["reason"] for r in answer["refused"]} == {
        "listed twice in this request",
        "not an email address",
        "the contact opted out or bounced",
        "unknown field role",
    }
    assert enrolled == (2,) and opted_out


def test_add_contacts_refuses_other_organizations_and_huge_batches(database_url, tenants):
    a, b = tenants
    refused(
        database_url, a["member"], 'SELECT public.add_contacts(%(org)s, \'[{"email": "x@y.example"}]\')', b
    )
    big = json.dumps([{"email": f"p{i}@x.example"} for i in range(1001)])
    refused(
        database_url,
        a["member"],
        "SELECT public.add_contacts(%(org)s, %(big)s::jsonb)",
        {**a, "big": big},
        errors.InvalidParameterValue,
    )


def test_members_read_unsubscribes_and_record_one(database_url, conn, tenants):
    a, _ = tenants
    other = f.contact(conn, a["org"])
    with as_role(database_url, "authenticated", a["member"]) as api:
        assert api.execute("SELECT count(*) FROM campaign_unsubscribes").fetchone() == (1,)
        api.execute(
            "INSERT INTO campaign_unsubscribes (campaign_id, contact_id, reason) VALUES (%s, %s, 'asked by phone')",
            (a["campaign"], other),
        )
        api.execute(
            "UPDATE contacts SET unsubscribe_requested = true, reached_status = 'unsubscribed' WHERE id = %s",
            (other,),
        )
        assert api.execute("SELECT count(*) FROM campaign_unsubscribes").fetchone() == (2,)


def test_admin_manages_members(database_url, conn, tenants):
    a, _ = tenants
    newcomer = f.user(conn)
    with as_role(database_url, "authenticated", a["admin"]) as api:
        api.execute(
            "INSERT INTO organization_members (organization_id, user_id, role) VALUES (%s, %s, 'member')",
            (a["org"], newcomer),
        )
        assert (
            api.execute(
                "UPDATE organization_members SET role = 'admin' WHERE user_id = %s", (newcomer,)
            ).rowcount
            == 1
        )
        assert api.execute("DELETE FROM organization_members WHERE user_id = %s", (newcomer,)).rowcount == 1


def test_everything_held_about_one_person(database_url, conn, tenants):
    a, b = tenants
    email = conn.execute("SELECT email FROM contacts WHERE id = %s", (a["contact"],)).fetchone()[0]
    conn.execute(
        'UPDATE contacts SET extra_data = \'{"source_url": "https://studio.example/contact"}\' WHERE id = %s',
        (a["contact"],),
    )
    with as_role(database_url, "authenticated", a["member"]) as api:
        (held,) = api.execute("SELECT public.contact_data(%s, %s)", (a["org"], email.upper())).fetchone()[0]
        elsewhere = api.execute("SELECT public.contact_data(%s, %s)", (b["org"], email)).fetchone()[0]
    assert held["contact"]["email"] == email and held["found_on"] == "https://studio.example/contact"
    assert [c["campaign_id"] for c in held["campaigns"]] == [str(a["campaign"])]
    assert [m["status"] for m in held["messages"]] == ["draft"] and len(held["campaign_unsubscribes"]) == 1
    assert elsewhere == []  # another organization's data stays out of reach
