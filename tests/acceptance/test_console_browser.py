# ruff: noqa: F811 - `browser` is the unsubscribe test's driver fixture, imported and then requested
"""The console in a real browser (headless Chromium through selenium, the unsubscribe page's
driver): a person signs in through the fragment, acts, and the database shows it. axe-core,
injected by the test only, finds nothing serious or critical on any view. Screenshots go to
artifacts/ (or CONSOLE_SCREENSHOTS, which `make screenshots` points at docs/screenshots/)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from werkzeug.serving import make_server

from shared.inbound.intent_names import INTENTS
from tests import console_data
from tests.acceptance.test_unsubscribe_browser import browser  # noqa: F401 - the shared driver
from tests.helpers import ROOT, user_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or ROOT / "artifacts")
AXE = (ROOT / "tests" / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WAIT = 20  # seconds a condition may take to become true (the undo window is 4 s)


@pytest.fixture(scope="module")
def server():
    import functions_framework

    app = functions_framework.create_app(
        target="console", source=str(ROOT / "functions" / "console" / "main.py")
    )
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture
def world(conn):
    return console_data.build(conn)


def by():
    from selenium.webdriver.common.by import By

    return By


def wait_until(browser, condition, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(lambda _: condition())


def sign_in(browser, server, user_id) -> None:
    browser.set_window_size(1280, 900)
    browser.get("about:blank")
    browser.get(f"{server}/#access_token={user_token(user_id)}&token_type=bearer")
    wait_until(browser, lambda: browser.find_elements(by().CSS_SELECTOR, "nav button[data-view]"))


def show(browser, view: str) -> None:
    browser.find_element(by().CSS_SELECTOR, f'nav button[data-view="{view}"]').click()


def text(browser) -> str:
    return browser.find_element(by().TAG_NAME, "body").text


def no_serious_violations(browser) -> None:
    browser.execute_script(AXE)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)),"
        " e => done(JSON.stringify([{id: 'axe failed', impact: 'critical', description: String(e)}])));"
    )
    serious = [v for v in json.loads(result) if v["impact"] in ("serious", "critical")]
    assert not serious, [(v["id"], v["description"], [n["target"] for n in v["nodes"]]) for v in serious]


def screenshot(browser, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"console-{name}.png"))


def flow_status(conn, flow_id) -> str:
    return conn.execute("SELECT status FROM outreach_flows WHERE id = %s", (flow_id,)).fetchone()[0]


def test_sign_in_through_the_fragment_shows_ones_own_organization_only(conn, server, browser, world):
    sign_in(browser, server, world.admin)
    wait_until(browser, lambda: "Spring studios" in text(browser))
    assert "#" not in browser.current_url  # the token left the address bar
    stored = json.loads(browser.execute_script("return sessionStorage.getItem('outreach.console.session')"))
    assert stored["access_token"] and "Acme Yoga Supplies" in text(browser)
    for view in ("campaigns", "review", "inbox", "mailboxes", "contacts"):
        show(browser, view)
        wait_until(browser, lambda: "Loading" not in text(browser))
        assert "Globex" not in browser.page_source and "secret@globex" not in browser.page_source, view
        no_serious_violations(browser)
        screenshot(browser, view)


def test_review_edit_approve_and_reject_with_the_keyboard(conn, server, browser, world):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    sign_in(browser, server, world.member)
    show(browser, "review")
    wait_until(browser, lambda: len(browser.find_elements(by().CSS_SELECTOR, "article.draft")) == 6)
    # Draft bodies are text: the markup in them shows as written.
    assert "<b>not bold</b> & a note." in text(browser)
    assert not browser.find_elements(by().CSS_SELECTOR, "article.draft pre b")
    keys = ActionChains(browser)
    keys.send_keys("j").send_keys("e").perform()  # the second draft: Lotus Flow
    subject = wait_until(
        browser, lambda: browser.find_element(by().CSS_SELECTOR, "article.current input[id$='-subject']")
    )
    subject.send_keys(Keys.CONTROL, "a")
    subject.send_keys("Aerial mats for Lotus Flow")
    browser.find_element(by().CSS_SELECTOR, 'article.current button[type="submit"]').click()
    wait_until(
        browser,
        lambda: (
            conn.execute("SELECT subject FROM outreach_flows WHERE id = %s", (world.drafts[1],)).fetchone()[0]
            == "Aerial mats for Lotus Flow"
        ),
    )
    wait_until(
        browser, lambda: not browser.find_elements(by().CSS_SELECTOR, "article.current input[id$='-subject']")
    )
    ActionChains(browser).send_keys("a").perform()  # approve it
    wait_until(browser, lambda: flow_status(conn, world.drafts[1]) == "scheduled")
    assert flow_status(conn, world.drafts[0]) == "draft"
    # Reject with the button.
    browser.find_element(by().CSS_SELECTOR, f'article[data-draft="{world.drafts[2]}"] button.danger').click()
    wait_until(browser, lambda: flow_status(conn, world.drafts[2]) == "canceled")


def test_undo_keeps_a_draft(conn, server, browser, world):
    sign_in(browser, server, world.member)
    show(browser, "review")
    card = f'article[data-draft="{world.drafts[0]}"]'
    wait_until(browser, lambda: browser.find_elements(by().CSS_SELECTOR, card))
    browser.find_element(by().CSS_SELECTOR, f"{card} button.primary").click()
    browser.find_element(by().CSS_SELECTOR, ".toast button").click()
    wait_until(browser, lambda: browser.find_elements(by().CSS_SELECTOR, card))
    # A later approval goes through, and the undone one was never sent to the database.
    browser.find_element(by().CSS_SELECTOR, f'article[data-draft="{world.drafts[3]}"] button.primary').click()
    wait_until(browser, lambda: flow_status(conn, world.drafts[3]) == "scheduled")
    assert flow_status(conn, world.drafts[0]) == "draft"


def test_approve_a_selection_with_a_form_message(conn, server, browser, world):
    sign_in(browser, server, world.member)
    show(browser, "review")
    form = f'article[data-draft="{world.form_draft}"]'
    wait_until(browser, lambda: browser.find_elements(by().CSS_SELECTOR, form))
    fields = browser.find_element(by().CSS_SELECTOR, f"{form} .form-fields").text
    assert "Your name" in fields and "Message" in fields
    for draft in (world.form_draft, world.drafts[0]):
        browser.find_element(
            by().CSS_SELECTOR, f'article[data-draft="{draft}"] input[type="checkbox"]'
        ).click()
    browser.find_element(by().XPATH, "//button[starts-with(normalize-space(.), 'Approve selected')]").click()
    wait_until(
        browser,
        lambda: flow_status(conn, world.form_draft) == flow_status(conn, world.drafts[0]) == "scheduled",
    )
    assert flow_status(conn, world.drafts[2]) == "draft"


def test_a_member_is_refused_an_admin_action_even_calling_the_endpoint(conn, server, browser, world):
    sign_in(browser, server, world.member)
    wait_until(browser, lambda: "Winter gyms" in text(browser))
    assert not browser.find_elements(by().XPATH, "//button[starts-with(normalize-space(.), 'Resume')]")
    answer = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const s = JSON.parse(sessionStorage.getItem('outreach.console.session'));"
        "fetch('/api/campaigns/' + arguments[0] + '/status', {method: 'POST', headers: {"
        " Authorization: 'Bearer ' + s.access_token, 'Content-Type': 'application/json'},"
        " body: JSON.stringify({status: 'active'})}).then(r => done(r.status));",
        str(world.paused),
    )
    assert answer == 403
    assert (
        conn.execute("SELECT status FROM campaigns WHERE id = %s", (world.paused,)).fetchone()[0] == "paused"
    )


def test_a_paused_campaign_shows_its_reason_and_resumes(conn, server, browser, world):
    sign_in(browser, server, world.admin)
    row = f'tr[data-campaign="{world.paused}"]'
    wait_until(browser, lambda: browser.find_elements(by().CSS_SELECTOR, row))
    assert (
        "hard bounces at 9% of 40 sent"
        in browser.find_element(by().CSS_SELECTOR, f"{row} .paused-reason").text
    )
    browser.find_element(
        by().XPATH,
        f"//tr[@data-campaign='{world.paused}']//button[starts-with(normalize-space(.), 'Resume')]",
    ).click()
    wait_until(
        browser,
        lambda: (
            conn.execute(
                "SELECT status, paused_reason FROM campaigns WHERE id = %s", (world.paused,)
            ).fetchone()
            == ("active", None)
        ),
    )
    wait_until(browser, lambda: not browser.find_elements(by().CSS_SELECTOR, f"{row} .paused-reason"))


def test_a_reply_appears_in_the_inbox_with_its_thread(conn, server, browser, world):
    sign_in(browser, server, world.member)
    show(browser, "inbox")
    item = f'button[data-message="{world.reply}"]'
    wait_until(browser, lambda: browser.find_elements(by().CSS_SELECTOR, item))
    # The intent the reply was read as, in words; no "needs review" for a sure reading.
    assert browser.find_element(by().CSS_SELECTOR, f"{item} .intent").text == "Interested"
    assert not browser.find_elements(by().CSS_SELECTOR, f"{item} .needs-review")
    browser.find_element(by().CSS_SELECTOR, item).click()
    wait_until(browser, lambda: "send two sets to our Bilbao studio" in text(browser))
    assert "Hi Ana, would a sample set help?" in text(browser)
    assert "Two sets are on their way to Bilbao." in text(browser)
    no_serious_violations(browser)
    screenshot(browser, "inbox-thread")
    # Edit the reply draft, then approve it.
    browser.find_element(by().XPATH, "//button[normalize-space(.)='Edit reply']").click()
    body = wait_until(browser, lambda: browser.find_element(by().ID, "reply-body"))
    body.send_keys(" Tracking number follows.")
    browser.find_element(by().XPATH, "//form//button[normalize-space(.)='Save']").click()
    wait_until(
        browser,
        lambda: (
            conn.execute("SELECT body FROM outreach_flows WHERE id = %s", (world.reply_draft,)).fetchone()[0]
            == "Two sets are on their way to Bilbao. Tracking number follows."
        ),
    )
    browser.find_element(by().XPATH, "//button[normalize-space(.)='Approve reply']").click()
    wait_until(browser, lambda: flow_status(conn, world.reply_draft) == "scheduled")


def test_the_inbox_filters_by_intent_and_a_set_aside_message_is_read_again(conn, server, browser, world):
    from selenium.webdriver.support.ui import Select

    conn.execute(
        "UPDATE inbound_messages SET intent = 'other', needs_review = true WHERE id = %s", (world.reply,)
    )
    sign_in(browser, server, world.member)
    show(browser, "inbox")
    item = f'button[data-message="{world.reply}"]'
    wait_until(browser, lambda: browser.find_elements(by().CSS_SELECTOR, item))
    assert browser.find_element(by().CSS_SELECTOR, f"{item} .needs-review").text == "needs review"
    choices = Select(browser.find_element(by().ID, "inbox-intent"))
    assert tuple(o.get_attribute("value") for o in choices.options)[1:] == INTENTS
    choices.select_by_visible_text("Interested")
    wait_until(browser, lambda: "No answers yet." in text(browser))
    choices.select_by_visible_text("Other")
    wait_until(browser, lambda: browser.find_elements(by().CSS_SELECTOR, item))
    # The message the reader did not believe, and asking for it to be read again.
    held = f'li[data-quarantine="{world.quarantined}"]'
    assert "stranger@elsewhere.example" in browser.find_element(by().CSS_SELECTOR, held).text
    browser.find_element(by().CSS_SELECTOR, f"{held} button").click()
    wait_until(
        browser,
        lambda: conn.execute(
            "SELECT read_again FROM inbound_quarantine WHERE id = %s", (world.quarantined,)
        ).fetchone()[0],
    )
    wait_until(
        browser, lambda: "read again at the next sync" in browser.find_element(by().CSS_SELECTOR, held).text
    )
    no_serious_violations(browser)


class FakeAuth:
    """Supabase Auth's three calls the page makes (password grant, refresh grant, magic link),
    on loopback with CORS as Supabase answers it; every request is recorded."""

    def __init__(self, user_id, lifetime: int):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.calls: list[tuple[str, dict, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _cors(self):
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Headers", "apikey, content-type, authorization")
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")

            def do_OPTIONS(self):
                self.send_response(204)
                self._cors()
                self.end_headers()

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                outer.calls.append((self.path, dict(self.headers), body))
                answer = {}
                if self.path.startswith("/auth/v1/token"):
                    answer = {
                        "access_token": user_token(user_id, expires_in=lifetime),
                        "refresh_token": f"refresh-{len(outer.calls)}",
                        "expires_in": lifetime,
                    }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self):
        self.http.shutdown()
        self.http.server_close()


def test_password_sign_in_magic_link_and_refresh_through_supabase_auth(conn, env, server, browser, world):
    # A token that expires in 70 s is refreshed a minute before: 10 s after signing in.
    auth = FakeAuth(world.member, lifetime=70)
    try:
        env(SUPABASE_URL=auth.url, SUPABASE_ANON_KEY="anon-key-for-tests")
        browser.set_window_size(1280, 900)
        browser.get("about:blank")
        browser.get(f"{server}/")
        browser.execute_script("sessionStorage.clear()")  # signed out: an earlier test's session is gone
        browser.get(f"{server}/")
        email = wait_until(browser, lambda: browser.find_element(by().ID, "signin-email"))
        email.send_keys("member@acme.example")
        browser.find_element(by().XPATH, "//button[normalize-space(.)='Email me a sign-in link']").click()
        wait_until(browser, lambda: "A sign-in link was sent" in text(browser))
        path, headers, body = auth.calls[-1]
        assert path == "/auth/v1/otp?redirect_to=" + quote(f"{server}/", safe="")
        assert body == {"email": "member@acme.example", "create_user": False}
        assert headers["apikey"] == "anon-key-for-tests"
        no_serious_violations(browser)
        screenshot(browser, "sign-in")
        browser.find_element(by().ID, "signin-password").send_keys("correct horse")
        browser.find_element(by().XPATH, "//button[normalize-space(.)='Sign in']").click()
        wait_until(browser, lambda: "Spring studios" in text(browser))
        assert auth.calls[-1][0] == "/auth/v1/token?grant_type=password"
        assert auth.calls[-1][2] == {"email": "member@acme.example", "password": "correct horse"}
        wait_until(
            browser, lambda: auth.calls[-1][0] == "/auth/v1/token?grant_type=refresh_token", timeout=40
        )
        assert auth.calls[-1][2] == {"refresh_token": "refresh-2"}
        stored = lambda: json.loads(  # noqa: E731
            browser.execute_script("return sessionStorage.getItem('outreach.console.session')")
        )
        wait_until(browser, lambda: stored()["refresh_token"] == "refresh-3")
        # Still signed in, with the new token.
        show(browser, "review")
        wait_until(browser, lambda: len(browser.find_elements(by().CSS_SELECTOR, "article.draft")) == 6)
        browser.find_element(by().XPATH, "//button[normalize-space(.)='Sign out']").click()
        wait_until(browser, lambda: browser.find_elements(by().ID, "signin-email"))
        assert browser.execute_script("return sessionStorage.getItem('outreach.console.session')") is None
    finally:
        auth.close()
