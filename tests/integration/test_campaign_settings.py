"""Campaign settings checked by the database with the rules of the pydantic model: no path stores
settings the functions cannot read, and one campaign's broken settings hold only its own mail."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import errors
from pydantic import ValidationError

from shared.campaigns import settings as campaign_settings
from shared.sending import sender
from tests import factories as f
from tests.helpers import as_role, function_client, user_token
from tests.integration.test_send_due import ALWAYS_OPEN, smtp, status  # noqa: F401  (smtp: fixture)


def broken_campaign(conn, org_id, ai_settings: dict):
    """A campaign whose settings were written past the check (before it existed, or by an
    operator with triggers off), as a database restored from an older dump may hold."""
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        return f.campaign(conn, org_id, ai_settings=ai_settings)


def test_one_campaigns_unreadable_cap_holds_only_its_own_mail(conn, smtp):  # noqa: F811
    bad_org, good_org = f.org(conn), f.org(conn)
    bad_campaign = broken_campaign(conn, bad_org, {**ALWAYS_OPEN, "daily_cap": "unlimited"})
    bad_contact = f.contact(conn, bad_org)
    f.link(conn, bad_campaign, bad_contact, status="drafted")
    bad_flow = f.flow(conn, bad_campaign, bad_contact)
    _, good_campaign, good_contact = f.prospect(conn, good_org, ai_settings=ALWAYS_OPEN)
    good_flow = f.flow(conn, good_campaign, good_contact)

    secret = __import__("os").environ["WEBHOOK_SECRET"]
    response = function_client("send_due").post("/", json={}, headers={"X-Webhook-Secret": secret})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["sent"] == 1
    assert status(conn, good_flow)[0] == "sent"
    held = status(conn, bad_flow)
    assert held[0] == "scheduled" and "ai_settings.daily_cap is not a whole number" in held[1]


def test_one_campaigns_unreadable_settings_hold_only_its_own_mail(conn, smtp):  # noqa: F811
    org_id = f.org(conn)
    bad_campaign = broken_campaign(conn, org_id, {**ALWAYS_OPEN, "sender_name": 42})
    contact_id = f.contact(conn, org_id)
    f.link(conn, bad_campaign, contact_id, status="drafted")
    bad_flow = f.flow(conn, bad_campaign, contact_id)
    _, good_campaign, good_contact = f.prospect(conn, ai_settings=ALWAYS_OPEN)
    good_flow = f.flow(conn, good_campaign, good_contact)
    result = sender.run()
    assert result["sent"] == 1 and result["errors"] == 0
    assert status(conn, good_flow)[0] == "sent"
    held = status(conn, bad_flow)
    assert held[0] == "scheduled" and "ai_settings are invalid" in held[1] and held[2] == 0


@pytest.mark.parametrize(
    "hostile",
    [
        {"daily_cap": "unlimited"},
        {"daily_cap": 1.5},
        {"daily_cap": 10**12},
        {"steps": [{"delay_days": 3}, {"delay_days": 1}]},
        {"sending_window": {"timezone": "Mars/Olympus"}},
        {"sending_window": {"start_hour": 18, "end_hour": 9}},
        {"review_before_send": "yes"},
        {"sender_name": "Eve\r\nBcc: all@victims.example"},
        {"unknown": 1},
    ],
)
def test_admin_cannot_store_unreadable_settings_through_the_data_api(conn, database_url, hostile):
    org_id, admin = f.org(conn), f.user(conn)
    f.member(conn, org_id, admin, "admin")
    campaign_id = f.campaign(conn, org_id)
    with as_role(database_url, "authenticated", admin) as api:
        with pytest.raises(errors.CheckViolation, match="invalid ai_settings"):
            api.execute(
                "UPDATE campaigns SET ai_settings = %s WHERE id = %s", (json.dumps(hostile), campaign_id)
            )
    assert conn.execute("SELECT ai_settings FROM campaigns WHERE id = %s", (campaign_id,)).fetchone() == ({},)


def test_sender_email_only_at_the_organizations_own_domains(conn, database_url):
    org_id, admin = f.org(conn), f.user(conn)
    f.member(conn, org_id, admin, "admin")
    conn.execute(
        "INSERT INTO sender_domains (organization_id, domain) VALUES (%s, 'studio.example')", (org_id,)
    )
    other_org = f.org(conn)
    conn.execute(
        "INSERT INTO sender_domains (organization_id, domain) VALUES (%s, 'competitor.example')", (other_org,)
    )
    campaign_id = f.campaign(conn, org_id, ai_settings={"sender_email": "ana@studio.example"})
    with as_role(database_url, "authenticated", admin) as api:
        with pytest.raises(errors.CheckViolation, match="competitor.example is not a sending domain"):
            api.execute(
                "UPDATE campaigns SET ai_settings = %s WHERE id = %s",
                (json.dumps({"sender_email": "ceo@competitor.example"}), campaign_id),
            )
    with as_role(database_url, "authenticated", admin) as api:
        # Members read their organization's domains; none may add one (the operator does).
        assert api.execute("SELECT domain FROM sender_domains").fetchall() == [("studio.example",)]
        with pytest.raises(errors.InsufficientPrivilege):
            api.execute("INSERT INTO sender_domains VALUES (%s, 'competitor.example')", (org_id,))


@pytest.fixture
def creator(conn):
    org_id, user_id = f.org(conn), f.user(conn)
    f.member(conn, org_id, user_id, "admin")
    conn.execute(
        "INSERT INTO sender_domains (organization_id, domain) VALUES (%s, 'café.example')", (org_id,)
    )
    return org_id, user_token(user_id)


@pytest.mark.parametrize(
    ("sender_email", "expected"),
    [
        ("ventas@café.example", 201),
        ("ventas@competitor.example", 400),
        ("josé@café.example", 400),  # a non-ASCII local part needs SMTPUTF8
    ],
)
def test_create_campaign_checks_the_sender_address(conn, creator, sender_email, expected):
    org_id, token = creator
    response = function_client("create_campaign").post(
        "/",
        json={
            "organization_id": str(org_id),
            "campaign_name": "Spring",
            "search_queries": ["yoga"],
            "ai_settings": {"sender_email": sender_email},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == expected, response.get_json()
    count = conn.execute("SELECT count(*) FROM campaigns WHERE organization_id = %s", (org_id,)).fetchone()[0]
    assert count == (1 if expected == 201 else 0)
    if expected == 400:
        assert response.get_json()["error"] == "invalid_body"


def test_an_internationalized_sender_domain_is_sent_as_idna(conn, smtp, creator):  # noqa: F811
    org_id, _ = creator
    campaign_id = f.campaign(conn, org_id, ai_settings={**ALWAYS_OPEN, "sender_email": "ventas@café.example"})
    contact_id = f.contact(conn, org_id)
    f.link(conn, campaign_id, contact_id, status="drafted")
    flow_id = f.flow(conn, campaign_id, contact_id)
    assert sender.run()["sent"] == 1
    assert smtp.recorder.senders == ["ventas@xn--caf-dma.example"]
    assert status(conn, flow_id)[3].endswith("@xn--caf-dma.example>")


# The rules of the model and of the database, held to each other on generated settings.
ZONES = st.sampled_from(
    [
        "UTC",
        "Europe/Madrid",
        "America/New_York",
        "Asia/Tokyo",
        "Mars/Olympus",
        "",
        "utc",
        "recipient",
        "Recipient",
    ]
)
NUMBERS = st.one_of(st.integers(-5, 30000), st.sampled_from([1.5, 3.0, True, False, None, "7", [], {}]))
NAMES = st.one_of(
    st.none(), st.text(max_size=110), st.sampled_from(["Ana", "A\nB", "<x>", " ", 'Q"']), st.integers()
)
WINDOWS = st.fixed_dictionaries(
    {},
    optional={
        "days": st.one_of(
            st.lists(st.sampled_from(["mon", "tue", "sun", "Mon", "xyz"]), max_size=9), st.just("mon")
        ),
        "start_hour": NUMBERS,
        "end_hour": NUMBERS,
        "timezone": st.one_of(ZONES, st.integers()),
        "color": st.just("blue"),
    },
)
SETTINGS = st.fixed_dictionaries(
    {},
    optional={
        "steps": st.one_of(
            st.lists(st.fixed_dictionaries({"delay_days": NUMBERS}), max_size=11),
            st.lists(st.fixed_dictionaries({"delay_days": st.integers(0, 9), "x": st.just(1)}), max_size=2),
            st.just("0,3,7"),
        ),
        "sending_window": st.one_of(WINDOWS, st.just([])),
        "daily_cap": NUMBERS,
        "review_before_send": st.one_of(st.booleans(), st.sampled_from([0, 1, "true", None])),
        "sender_name": NAMES,
        "public_name": NAMES,
        "sender_email": st.sampled_from([None, "ana@studio.example", "nobody", "josé@studio.example", 5]),
        "format": st.sampled_from(["html", "text", "HTML", None, 1, "rich"]),
        "mailboxes": st.sampled_from(
            [None, [], ["ana@team.example"], ["ana@team.example", "x"], "ana@team.example", [5], ["a@b"]]
        ),
        "per_company": NUMBERS,
        "channels": st.sampled_from(
            [["email"], ["form"], ["email", "form"], [], ["sms"], ["email", "email"], "email", [1]]
        ),
        "breaker": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "bounce_rate": st.sampled_from([0.05, 0, 1, 1.5, -0.1, "0.05", True, None]),
                    "complaint_rate": st.sampled_from([0.001, 0.5, 2, "x"]),
                    "min_sent": NUMBERS,
                    "other": st.just(1),
                },
            ),
            st.just(5),
        ),
        "extra": st.just(1),
    },
)


VALID = st.fixed_dictionaries(
    {},
    optional={
        "steps": st.lists(st.integers(0, 90), min_size=1, max_size=10, unique=True).map(
            lambda days: [{"delay_days": d} for d in sorted(days)]
        ),
        "sending_window": st.fixed_dictionaries(
            {},
            optional={
                "days": st.lists(st.sampled_from(campaign_settings.WEEKDAYS), min_size=1, max_size=7),
                "start_hour": st.integers(0, 8),
                "end_hour": st.integers(9, 24),
                "timezone": st.sampled_from(["UTC", "Europe/Madrid", "Asia/Tokyo", "recipient"]),
            },
        ),
        "daily_cap": st.integers(1, 10000),
        "review_before_send": st.booleans(),
        "sender_name": st.one_of(st.none(), st.sampled_from(["Ana", "Zoë Ñúñez", " Sam "])),
        "public_name": st.one_of(st.none(), st.just("Spring offer")),
        "sender_email": st.sampled_from([None, "ana@studio.example"]),
        "format": st.sampled_from(["html", "text"]),
        "mailboxes": st.sampled_from([None, ["ana@team.example"], ["Ana@Team.example", "sam@team.example"]]),
        "per_company": st.integers(1, 50),
        "channels": st.sampled_from([["email"], ["form"], ["email", "form"], ["form", "email"]]),
        "breaker": st.fixed_dictionaries(
            {},
            optional={
                "bounce_rate": st.floats(0, 1),
                "complaint_rate": st.sampled_from([0.001, 0.0, 1.0, 1]),
                "min_sent": st.integers(1, 100000),
            },
        ),
    },
)
# Valid settings with one value replaced by anything at all: the boundary of every rule.
ONE_CHANGE = st.tuples(VALID, SETTINGS).map(lambda pair: {**pair[0], **dict(list(pair[1].items())[:1])})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(VALID, ONE_CHANGE, SETTINGS))
def test_database_and_model_agree_on_every_setting(conn, raw):
    try:
        campaign_settings.parse(raw)
        model_ok = True
    except ValidationError:
        model_ok = False
    try:
        problem = conn.execute(
            "SELECT private.campaign_settings_problem(%s::jsonb)", (json.dumps(raw),)
        ).fetchone()[0]
    except errors.DataError:
        problem = "jsonb cannot hold it (NUL, lone surrogate)"
    assert model_ok == (problem is None), (raw, problem)


def test_created_campaigns_pass_the_database_check(conn):
    stored = campaign_settings.AiSettings().model_dump(mode="json")
    assert conn.execute(
        "SELECT private.campaign_settings_problem(%s::jsonb)", (json.dumps(stored),)
    ).fetchone() == (None,)
