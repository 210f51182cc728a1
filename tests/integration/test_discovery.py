"""run_search and scrape_url on the fixture website: sites found, pages crawled, contacts
extracted, deduplicated and linked; running a row twice adds nothing."""

from __future__ import annotations

import json
import os

import pytest

from local.fixture_site import LAYOUT_SITES, FixtureSites
from shared.discovery import fetch
from tests import factories as f
from tests.helpers import function_client


@pytest.fixture(scope="module")
def sites():
    with FixtureSites() as running:
        yield running


@pytest.fixture
def discovery_env(env, sites):
    env(
        FIXTURE_SITE_URLS=",".join(sites.urls),
        ALLOW_PRIVATE_NETWORK="true",
        SEARCH_PROVIDER="fixture",
        DRAIN_GRACE_SECONDS=0,
    )
    fetch._robots.clear()
    yield sites


def webhook(client, table, record):
    return client.post(
        "/",
        data=json.dumps(
            {"type": "INSERT", "table": table, "schema": "public", "record": record, "old_record": None}
        ),
        content_type="application/json",
        headers={"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]},
    )


def discover(conn, language="en", org_id=None, **campaign_fields):
    org_id = org_id or f.org(conn)
    campaign_id = f.campaign(conn, org_id, **campaign_fields)
    task_id = f.search_task(conn, campaign_id, "yoga studios", language=language)
    assert (
        webhook(function_client("run_search"), "search_tasks", {"id": str(task_id)}).get_json()["completed"]
        == 1
    )
    scraper = function_client("scrape_url")
    rows = conn.execute("SELECT id FROM scrape_results WHERE search_task_id = %s", (task_id,)).fetchall()
    for (scrape_id,) in rows:
        assert webhook(scraper, "scrape_results", {"id": str(scrape_id)}).status_code == 200
    return org_id, campaign_id, task_id


def results(conn, task_id):
    return conn.execute(
        "SELECT website_url, status, status_reason, extracted_emails, extracted_phone, page_title,"
        " page_description, site_name, raw_content, pages_fetched FROM scrape_results WHERE search_task_id = %s"
        " ORDER BY website_url",
        (task_id,),
    ).fetchall()


def test_search_then_scrape_extracts_every_case(conn, discovery_env):
    org_id, campaign_id, task_id = discover(conn)
    by_url = {r[0]: r for r in results(conn, task_id)}
    sunrise, pilates, zen = (by_url[u] for u in discovery_env.urls)

    assert sunrise[1] == "completed" and sunrise[9] == 3  # the page plus its about and contact pages
    assert set(sunrise[3]) == {
        "hello@sunriseyoga.studio",
        "maria@sunriseyoga.studio",
        "team@sunriseyoga.studio",
        "events@sunriseyoga.studio",
    }
    assert {"+13056741234", "+13056741299"} <= set(sunrise[4])
    assert sunrise[5] in ("Sunrise Yoga Studio | Miami Beach", "Yoga for every body, by the ocean")
    assert "Vinyasa" in sunrise[6] and sunrise[7] == "Sunrise Yoga Studio"
    assert "vinyasa, yin and prenatal yoga" in sunrise[8]

    assert pilates[1] == "completed"
    assert set(pilates[3]) == {"info@pilatesretiro.es", "reservas@pilatesretiro.es"}
    assert zen[1] == "skipped" and "robots.txt" in zen[2]

    contacts = dict(
        conn.execute("SELECT email, name FROM contacts WHERE organization_id = %s", (org_id,)).fetchall()
    )
    assert contacts["maria@sunriseyoga.studio"] == "Maria Alvarez"
    assert not any(e.endswith(("wixpress.com", "email.com", "domain.com", ".png")) for e in contacts)
    # One conversation per company: the named person at Sunrise, the first role address at Pilates.
    linked = conn.execute(
        "SELECT ct.email FROM campaign_contacts x JOIN contacts ct ON ct.id = x.contact_id"
        " WHERE x.campaign_id = %s ORDER BY 1",
        (campaign_id,),
    ).fetchall()
    assert linked == [("info@pilatesretiro.es",), ("maria@sunriseyoga.studio",)]
    assert "one conversation per company, not enrolled: events@sunriseyoga.studio" in sunrise[2]


def test_phone_region_from_the_task_language(conn, discovery_env):
    _, _, task_id = discover(conn, language="es-ES")
    pilates = {r[0]: r for r in results(conn, task_id)}[discovery_env.urls[1]]
    assert {"+34912345678", "+34912345679"} <= set(pilates[4])


def row_counts(conn, org_id, campaign_id, task_id) -> tuple:
    return conn.execute(
        "SELECT (SELECT count(*) FROM contacts WHERE organization_id = %s),"
        " (SELECT count(*) FROM campaign_contacts WHERE campaign_id = %s),"
        " (SELECT count(*) FROM scrape_results WHERE search_task_id = %s)",
        (org_id, campaign_id, task_id),
    ).fetchone()


def test_running_the_same_rows_twice_adds_nothing(conn, discovery_env):
    org_id, campaign_id, task_id = discover(conn)
    before = row_counts(conn, org_id, campaign_id, task_id)
    # The same webhooks again: each row is already final, so nothing runs.
    assert (
        webhook(function_client("run_search"), "search_tasks", {"id": str(task_id)}).get_json()["skipped"]
        == 1
    )
    # Forced to run again from scratch: still nothing new.
    conn.execute("UPDATE search_tasks SET status = 'pending', attempts = 0 WHERE id = %s", (task_id,))
    conn.execute(
        "UPDATE scrape_results SET status = 'pending', attempts = 0 WHERE search_task_id = %s", (task_id,)
    )
    discover_again = function_client("run_search")
    webhook(discover_again, "search_tasks", {"id": str(task_id)})
    for (scrape_id,) in conn.execute(
        "SELECT id FROM scrape_results WHERE search_task_id = %s", (task_id,)
    ).fetchall():
        webhook(function_client("scrape_url"), "scrape_results", {"id": str(scrape_id)})
    after = row_counts(conn, org_id, campaign_id, task_id)
    assert after == before


def test_known_contact_is_enriched_and_suppressed_one_not_linked(conn, discovery_env):
    org_id = f.org(conn)
    known = f.contact(conn, org_id, "Hello@SunriseYoga.studio")
    gone = f.contact(conn, org_id, "maria@sunriseyoga.studio", unsubscribe_requested=True)
    _, campaign_id, _ = discover(conn, org_id=org_id, ai_settings={"per_company": 10})
    row = conn.execute(
        "SELECT id, phone, extra_data->>'source_url' FROM contacts WHERE id = %s", (known,)
    ).fetchone()
    assert row[1] == "+13056741234" and row[2] == discovery_env.urls[0]
    assert conn.execute(
        "SELECT count(*) FROM contacts WHERE organization_id = %s AND lower(email) = 'hello@sunriseyoga.studio'",
        (org_id,),
    ).fetchone() == (1,)
    linked = {
        r[0]
        for r in conn.execute(
            "SELECT contact_id FROM campaign_contacts WHERE campaign_id = %s", (campaign_id,)
        )
    }
    assert known in linked and gone not in linked


def test_drain_picks_up_rows_whose_webhook_was_lost(conn, discovery_env):
    # A drain takes the oldest waiting rows of every organization: earlier tests' rows wait later.
    for table in ("search_tasks", "scrape_results"):
        conn.execute(
            f"UPDATE {table} SET next_attempt_at = now() + interval '1 day' WHERE status = 'pending'"
        )
    campaign_id = f.campaign(conn, f.org(conn))
    task_id = f.search_task(conn, campaign_id)
    headers = {"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]}
    drained = (
        function_client("run_search")
        .post(
            "/",
            data=json.dumps({"drain": True, "limit": 500}),
            content_type="application/json",
            headers=headers,
        )
        .get_json()
    )
    assert drained["processed"] >= 1
    assert conn.execute("SELECT status FROM search_tasks WHERE id = %s", (task_id,)).fetchone() == (
        "completed",
    )
    scraped = (
        function_client("scrape_url")
        .post(
            "/",
            data=json.dumps({"drain": True, "limit": 500}),
            content_type="application/json",
            headers=headers,
        )
        .get_json()
    )
    assert scraped["processed"] >= 3
    states = {
        r[0] for r in conn.execute("SELECT status FROM scrape_results WHERE search_task_id = %s", (task_id,))
    }
    assert states <= {"completed", "skipped"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"type": "INSERT", "table": "scrape_results", "schema": "public", "record": {"id": "x"}}, 400),
        (
            {"type": "INSERT", "table": "search_tasks", "schema": "public", "record": {"id": "not-a-uuid"}},
            400,
        ),
        ({"type": "INSERT", "table": "search_tasks", "schema": "public", "record": None}, 400),
        ({"type": "INSERT", "table": "search_tasks", "schema": "auth", "record": {"id": "x"}}, 400),
        ({"type": "TRUNCATE", "table": "search_tasks", "schema": "public", "record": {}}, 400),
        ({"drain": True, "limit": 0}, 400),
        ({"drain": True, "limit": "all"}, 400),
        ({"drain": False}, 400),
        ([], 400),
    ],
)
def test_bad_webhook_bodies_are_400(discovery_env, body, status):
    response = function_client("run_search").post(
        "/",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]},
    )
    assert response.status_code == status, response.get_json()


def test_webhook_without_secret_is_401(discovery_env):
    response = function_client("scrape_url").post(
        "/", data=json.dumps({"drain": True}), content_type="application/json"
    )
    assert response.status_code == 401


def test_directory_page_links_at_most_25_contacts(conn, discovery_env):
    from tests.helpers import http_server

    page = (
        "<html><body>"
        + "".join(f"<p>member{i}@guild-of-studios.com</p>" for i in range(60))
        + "</body></html>"
    )

    def respond(handler):
        if handler.path == "/robots.txt":
            return 404, {}, b""
        return 200, {"Content-Type": "text/html"}, page.encode()

    with http_server(respond) as base:
        org_id = f.org(conn)
        campaign_id = f.campaign(conn, org_id, ai_settings={"per_company": 50})
        task_id = f.search_task(conn, campaign_id)
        scrape_id = f.scrape_result(conn, task_id, base + "/")
        assert (
            webhook(function_client("scrape_url"), "scrape_results", {"id": str(scrape_id)}).status_code
            == 200
        )
    row = conn.execute(
        "SELECT status, status_reason, cardinality(extracted_emails) FROM scrape_results WHERE id = %s",
        (scrape_id,),
    ).fetchone()
    assert row[0] == "completed" and row[2] == 60 and "the first 25 addresses only" in row[1]
    assert conn.execute(
        "SELECT count(*) FROM campaign_contacts WHERE campaign_id = %s", (campaign_id,)
    ).fetchone() == (25,)


def test_contacts_are_kept_when_the_page_summary_fails(conn, discovery_env, monkeypatch):
    import trafilatura

    def broken(*args, **kwargs):
        raise ImportError("lxml.html.clean module is now a separate project lxml_html_clean")

    monkeypatch.setattr(trafilatura, "extract", broken)
    org_id, _, task_id = discover(conn)
    sunrise = {r[0]: r for r in results(conn, task_id)}[discovery_env.urls[0]]
    assert sunrise[1] == "completed" and "maria@sunriseyoga.studio" in sunrise[3]
    assert sunrise[8] == "" and sunrise[7] is None  # no summary, no site name
    found = conn.execute("SELECT count(*) FROM contacts WHERE organization_id = %s", (org_id,)).fetchone()[0]
    assert found >= 6


def test_each_contact_keeps_the_page_its_address_was_found_on(conn, discovery_env):
    org_id, _, _ = discover(conn)
    sources = dict(
        conn.execute(
            "SELECT email, extra_data ->> 'source_url' FROM contacts WHERE organization_id = %s", (org_id,)
        ).fetchall()
    )
    home = discovery_env.urls[0]
    assert (
        sources["maria@sunriseyoga.studio"].startswith(home)
        and "about" in sources["maria@sunriseyoga.studio"]
    )
    assert all(url.startswith("http://127.0.0.1:") for url in sources.values())


@pytest.mark.parametrize(
    ("status", "outcome", "reason"),
    [
        (503, "pending", "HTTP status 503"),
        (429, "pending", "HTTP status 429"),
        (404, "failed", "failed: HTTP status 404"),
    ],
)
def test_a_site_in_trouble_is_retried_a_missing_page_fails(conn, discovery_env, status, outcome, reason):
    # Decided by the fetcher's error class (Transient or not), whatever its message says.
    from tests.helpers import http_server

    def respond(handler):
        if handler.path == "/robots.txt":
            return 404, {}, b""
        return status, {"Content-Type": "text/html"}, b"<html></html>"

    with http_server(respond) as base:
        task_id = f.search_task(conn, f.campaign(conn, f.org(conn)))
        scrape_id = f.scrape_result(conn, task_id, base + "/")
        assert (
            webhook(function_client("scrape_url"), "scrape_results", {"id": str(scrape_id)}).status_code
            == 200
        )
    row = conn.execute(
        "SELECT status, status_reason FROM scrape_results WHERE id = %s", (scrape_id,)
    ).fetchone()
    assert row[0] == outcome and reason in row[1]


@pytest.fixture(scope="module")
def layout_sites():
    with FixtureSites(LAYOUT_SITES) as running:
        yield running


def test_whatsapp_numbers_json_data_and_script_drawn_pages(conn, env, layout_sites):
    env(
        FIXTURE_SITE_URLS=",".join(layout_sites.urls),
        ALLOW_PRIVATE_NETWORK="true",
        SEARCH_PROVIDER="fixture",
        DRAIN_GRACE_SECONDS=0,
    )
    fetch._robots.clear()
    org_id, _, task_id = discover(conn, language="es")
    salon, clinic, shell = ({r[0]: r for r in results(conn, task_id)}[u] for u in layout_sites.urls)

    # A salon whose only number is its WhatsApp link.
    assert salon[1] == "completed" and salon[4] == ["+34612345678"] and salon[3] == []
    # A Next.js page renders nothing in its HTML: its contacts come from __NEXT_DATA__.
    assert clinic[1] == "completed" and clinic[3] == ["citas@clinicasonrisa.es"]
    assert clinic[4] == ["+34915234567", "+34655123456"]
    assert "content rendered by JavaScript, read from the data it carries" in clinic[2]
    phones = conn.execute(
        "SELECT extra_data -> 'phones' FROM contacts WHERE organization_id = %s AND email = %s",
        (org_id, "citas@clinicasonrisa.es"),
    ).fetchone()[0]
    assert [(p["number"], p["kind"], p["line"]) for p in phones] == [
        ("+34915234567", "data", "fixed_line"),
        ("+34655123456", "whatsapp", "mobile"),
    ]
    assert all(p["source_url"] == layout_sites.urls[1] for p in phones)
    # A page its scripts draw, with nothing in its HTML or data: not "no contacts".
    assert shell[1] == "failed" and shell[2] == "failed: content rendered by JavaScript"
    assert shell[3] == [] and shell[9] == 1
