"""Rows for tests, each in a new organization unless one is given. Plain SQL on purpose:
the tests state the schema they rely on rather than going through the code under test."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta


def _id() -> uuid.UUID:
    return uuid.uuid4()


def user(conn, email: str | None = None) -> uuid.UUID:
    user_id = _id()
    conn.execute(
        "INSERT INTO auth.users (id, aud, role, email) VALUES (%s, 'authenticated', 'authenticated', %s)",
        (user_id, email or f"user-{user_id.hex[:8]}@example.org"),
    )
    return user_id


def org(conn, name: str | None = None) -> uuid.UUID:
    return conn.execute(
        "INSERT INTO organizations (org_name) VALUES (%s) RETURNING id",
        (name or f"Org {secrets.token_hex(3)}",),
    ).fetchone()[0]


def member(conn, organization_id, user_id, role: str = "member") -> None:
    conn.execute(
        "INSERT INTO organization_members (organization_id, user_id, role) VALUES (%s, %s, %s)",
        (organization_id, user_id, role),
    )


def campaign(conn, organization_id=None, **fields) -> uuid.UUID:
    organization_id = organization_id or org(conn)
    values = {"campaign_name": "Test campaign", "ai_settings": {}, **fields}
    values["ai_settings"] = json.dumps(values["ai_settings"])
    columns = ", ".join(["organization_id", *values])
    marks = ", ".join(["%s"] * (len(values) + 1))
    return conn.execute(
        f"INSERT INTO campaigns ({columns}) VALUES ({marks}) RETURNING id",
        (organization_id, *values.values()),
    ).fetchone()[0]


def campaign_org(conn, campaign_id) -> uuid.UUID:
    return conn.execute("SELECT organization_id FROM campaigns WHERE id = %s", (campaign_id,)).fetchone()[0]


def search_task(conn, campaign_id, query: str = "yoga studios in Florida", **fields) -> uuid.UUID:
    return conn.execute(
        "INSERT INTO search_tasks (campaign_id, search_query, language, status)"
        " VALUES (%s, %s, %s, %s) RETURNING id",
        (campaign_id, query, fields.get("language", "en"), fields.get("status", "pending")),
    ).fetchone()[0]


def scrape_result(conn, search_task_id, url: str | None = None, status: str = "pending") -> uuid.UUID:
    return conn.execute(
        "INSERT INTO scrape_results (search_task_id, website_url, status) VALUES (%s, %s, %s) RETURNING id",
        (search_task_id, url or f"https://site-{secrets.token_hex(3)}.example/", status),
    ).fetchone()[0]


def contact(conn, organization_id, email: str | None = None, **fields) -> uuid.UUID:
    values = {"email": email or f"lead-{secrets.token_hex(4)}@prospect.example", **fields}
    if "extra_data" in values:
        values["extra_data"] = json.dumps(values["extra_data"])
    columns = ", ".join(["organization_id", *values])
    marks = ", ".join(["%s"] * (len(values) + 1))
    return conn.execute(
        f"INSERT INTO contacts ({columns}) VALUES ({marks}) RETURNING id",
        (organization_id, *values.values()),
    ).fetchone()[0]


def link(conn, campaign_id, contact_id, status: str = "pending") -> None:
    conn.execute(
        "INSERT INTO campaign_contacts (campaign_id, contact_id, status) VALUES (%s, %s, %s)",
        (campaign_id, contact_id, status),
    )


def flow(conn, campaign_id, contact_id, step: int = 0, status: str = "scheduled", when=None, **fields):
    when = when or datetime.now(UTC) - timedelta(minutes=1)
    values = {
        "subject": f"Hello step {step}",
        "body": "A short note.\n\nBest,\nSam",
        **fields,
    }
    columns = ", ".join(
        ["campaign_id", "contact_id", "sequence_order", "status", "scheduled_send_time", *values]
    )
    marks = ", ".join(["%s"] * (len(values) + 5))
    return conn.execute(
        f"INSERT INTO outreach_flows ({columns}) VALUES ({marks}) RETURNING id",
        (campaign_id, contact_id, step, status, when, *values.values()),
    ).fetchone()[0]


def prospect(conn, organization_id=None, **campaign_fields):
    """A campaign with one linked contact: (organization_id, campaign_id, contact_id)."""
    organization_id = organization_id or org(conn)
    campaign_id = campaign(conn, organization_id, **campaign_fields)
    contact_id = contact(conn, organization_id)
    link(conn, campaign_id, contact_id, status="drafted")
    return organization_id, campaign_id, contact_id
