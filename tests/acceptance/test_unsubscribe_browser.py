"""The unsubscribe page in a real browser (headless Chromium through selenium): a person picks
an option, confirms, and the database shows it. Screenshots go to artifacts/."""

from __future__ import annotations

import shutil
import tempfile
import threading

import pytest
from werkzeug.serving import make_server

from shared.inbound import tokens
from tests import factories as f
from tests.helpers import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def server():
    import functions_framework

    app = functions_framework.create_app(
        target="unsubscribe_webhook", source=str(ROOT / "functions" / "unsubscribe_webhook" / "main.py")
    )
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail(
            "chromium and chromedriver are required (.ci/run installs Debian's chromium, chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=412,915",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def mail(conn):
    org_id = f.org(conn, "Acme Yoga Supplies")
    spring = f.campaign(
        conn, org_id, campaign_name="Spring studios", ai_settings={"public_name": "Spring studios"}
    )
    autumn = f.campaign(conn, org_id, campaign_name="Autumn studios")
    contact_id = f.contact(conn, org_id, "maria@estudio.example")
    for campaign_id in (spring, autumn):
        f.link(conn, campaign_id, contact_id)
    sent = f.flow(conn, spring, contact_id, 0, status="sent")
    f.flow(conn, spring, contact_id, 1)
    f.flow(conn, autumn, contact_id, 0)
    return contact_id, spring, tokens.issue(sent)


def choose(browser, url: str, scope: str, name: str) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(url)
    assert "Acme Yoga Supplies" in browser.page_source
    browser.save_screenshot(str(ARTIFACTS / f"unsubscribe-{name}-page.png"))
    browser.find_element(By.CSS_SELECTOR, f'input[name="scope"][value="{scope}"]').click()
    browser.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    confirmation = (
        WebDriverWait(browser, 15)
        .until(expected_conditions.presence_of_element_located((By.ID, "confirmation")))
        .text
    )
    browser.save_screenshot(str(ARTIFACTS / f"unsubscribe-{name}-confirmation.png"))
    return confirmation


def waiting_by_campaign(conn, contact_id):
    return dict(
        conn.execute(
            "SELECT c.campaign_name, count(*) FILTER (WHERE f.status = 'scheduled') FROM outreach_flows f"
            " JOIN campaigns c ON c.id = f.campaign_id WHERE f.contact_id = %s GROUP BY c.campaign_name",
            (contact_id,),
        ).fetchall()
    )


def test_person_stops_one_campaign_in_a_browser(conn, server, browser):
    contact_id, spring, token = mail(conn)
    text = choose(browser, f"{server}/?token={token}", "campaign", "campaign")
    assert "Spring studios" in text
    assert conn.execute(
        "SELECT campaign_id FROM campaign_unsubscribes WHERE contact_id = %s", (contact_id,)
    ).fetchall() == [(spring,)]
    assert waiting_by_campaign(conn, contact_id) == {"Spring studios": 0, "Autumn studios": 1}


def test_person_stops_everything_in_a_browser(conn, server, browser):
    contact_id, _, token = mail(conn)
    text = choose(browser, f"{server}/?token={token}", "all", "all")
    assert "no more emails from Acme Yoga Supplies" in text
    assert conn.execute(
        "SELECT unsubscribe_requested, reached_status FROM contacts WHERE id = %s", (contact_id,)
    ).fetchone() == (True, "unsubscribed")
    assert waiting_by_campaign(conn, contact_id) == {"Spring studios": 0, "Autumn studios": 0}
