"""The contact-form channel (promise 10 in docs/DESIGN.md) end to end: sites in the styles seen in the wild, served on
loopback under their own names (one server, virtual hosts), taken through scrape_url,
draft_message, a person's approval and send_due. Each approved form message is posted once;
nothing is posted behind a CAPTCHA or a no-solicitation notice."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from urllib.parse import parse_qs

import pytest

from shared.discovery import fetch
from shared.drafting import llm
from shared.sending import sender
from tests import factories as f
from tests.helpers import function_client, http_server
from tests.integration.test_guardrails import draft, scrape
from tests.unit.test_forms import CF7

ALWAYS = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start_hour": 0, "end_hour": 24}
FORMS_ONLY = {"channels": ["form"], "sending_window": ALWAYS}


def home(body: str) -> bytes:
    return f"<html><head><title>Studio</title></head><body><h1>Our studio</h1>{body}</body></html>".encode()


class Sites:
    """Every site's pages and what each received: name -> path -> answer."""

    def __init__(self):
        self.posts: Counter = Counter()
        self.bodies: dict[str, list[dict]] = {}
        self.nonces = itertools.count(1)
        self.issued: dict[str, str] = {}
        self.moved: dict[str, str] = {}  # site -> the base URL its pages now redirect to
        self.detours: dict[str, str] = {}  # site -> the site its pages pass through, then come back

    def respond(self, handler):
        site = handler.headers["Host"].split(":")[0]
        path = handler.path.split("#")[0]
        if path == "/robots.txt":
            return 404, {}, b""
        if handler.command == "GET" and site in self.moved:
            return 302, {"Location": self.moved[site] + path}, b""
        if handler.command == "GET" and site in self.detours and "returned=1" not in path:
            return 302, {"Location": self.url(self.detours[site]) + "/bounce-back?to=" + site}, b""
        if path.startswith("/bounce-back?to="):
            return 302, {"Location": self.url(path.split("=", 1)[1]) + "/?returned=1"}, b""
        if handler.command == "POST":
            length = int(handler.headers.get("Content-Length", 0))
            data = {k: v[-1] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
            self.posts[site] += 1
            self.bodies.setdefault(site, []).append(data)
            return self.answer_post(site, data)
        return 200, {"Content-Type": "text/html; charset=utf-8"}, self.page(site)

    def page(self, site: str) -> bytes:
        if site.startswith("cf7"):
            nonce = f"nonce-{next(self.nonces)}"  # a new nonce on every visit, as WordPress does
            self.issued[site] = nonce
            return home(CF7.replace("a1b2c3d4e5", nonce))
        if site.startswith("plain") or site.startswith("strict"):
            return home(
                '<form action="/send" method="post"><label>Name <input name="name" required></label>'
                '<label>Email <input type="email" name="email" required></label>'
                '<label>Message <textarea name="message" required></textarea></label><button>Send</button></form>'
            )
        if site.startswith("captcha"):
            return home(CF7.replace("</form>", '<div class="g-recaptcha" data-sitekey="k"></div></form>'))
        if site.startswith("newsletter"):
            return home(
                '<form method="post" action="/subscribe"><input type="email" name="email"><button>Join</button></form>'
            )
        if site.startswith("nosales"):
            return home("<p>Please, no sales or marketing inquiries.</p>" + CF7)
        if site.startswith("consent"):
            return home(
                CF7.replace(
                    "</form>",
                    '<label><input type="checkbox" name="acceptance" required> I accept the privacy policy</label></form>',
                )
            )
        return home("")

    def answer_post(self, site: str, data: dict):
        if site.startswith("cf7"):
            if data.get("_wpnonce") != self.issued.get(site):
                return (
                    200,
                    {"Content-Type": "text/html"},
                    home('<div class="wpcf7-response-output">Invalid nonce</div>'),
                )
            if not data.get("your-message"):
                return (
                    200,
                    {"Content-Type": "text/html"},
                    home(
                        '<span class="wpcf7-not-valid-tip">The field is required.</span>'
                        '<div class="wpcf7-response-output">One or more fields have an error.</div>'
                    ),
                )
            return (
                200,
                {"Content-Type": "text/html"},
                home(
                    '<div class="wpcf7-response-output">Thank you for your message. It has been sent.</div>'
                ),
            )
        if site.startswith("plain"):
            return 303, {"Location": "/thanks"}, b""
        if site.startswith("strict"):
            return (
                200,
                {"Content-Type": "text/html"},
                home("<p class=error>Please enter a phone number. This field is required.</p>"),
            )
        return 500, {}, b""


@pytest.fixture
def sites(env, conn, empty_queue, monkeypatch):
    served = Sites()
    with http_server(served.respond) as base:
        port = base.rsplit(":", 1)[1]
        monkeypatch.setattr(fetch, "resolver", lambda host, p: ["127.0.0.1"])
        env(
            ALLOW_PRIVATE_NETWORK="true",
            CRAWL_EXTRA_PAGES=0,
            LLM_BASE_URL=None,
            DRAIN_GRACE_SECONDS=0,
            SEND_DOMAIN_SPACING_SECONDS=0,
            SEND_RATE_PER_SECOND=0,
        )
        llm._client = None
        served.url = lambda name: f"http://{name}:{port}"
        yield served


def reach(conn, sites, name: str, **settings):
    """scrape_url over the site, then draft_message for the contact it enrolled."""
    row, linked = scrape(conn, sites.url(name), ai_settings={**FORMS_ONLY, **settings})
    enrolled = conn.execute(
        "SELECT x.campaign_id, x.contact_id FROM campaign_contacts x JOIN contacts ct ON ct.id = x.contact_id"
        " WHERE ct.form_site = %s ORDER BY x.created_at DESC LIMIT 1",
        (name,),
    ).fetchone()
    if enrolled is None:
        return row, None
    draft({"campaign_id": str(enrolled[0]), "contact_id": str(enrolled[1])})
    flow = conn.execute(
        "SELECT id, status, flow_type, sequence_order, body FROM outreach_flows WHERE campaign_id = %s AND contact_id = %s",
        enrolled,
    ).fetchall()
    return row, flow


def approve(conn, flow_id):
    conn.execute(
        "UPDATE outreach_flows SET status = 'scheduled', scheduled_send_time = now() WHERE id = %s",
        (flow_id,),
    )


def outcome(conn, flow_id):
    return conn.execute(
        "SELECT status, status_reason, submission FROM outreach_flows WHERE id = %s", (flow_id,)
    ).fetchone()


def test_contact_form_7_end_to_end_with_a_fresh_nonce(conn, sites):
    row, flows = reach(conn, sites, "cf7-studio.com")
    (flow,) = flows  # one step only: no follow-ups through a form
    assert flow[1:4] == ("draft", "form_submission", 0), (
        "always waits for a person, whatever review_before_send says"
    )
    assert sender.run()["sent"] == 0 and sites.posts["cf7-studio.com"] == 0
    approve(conn, flow[0])
    assert sender.run()["sent"] == 1
    status, reason, evidence = outcome(conn, flow[0])
    assert status == "sent" and reason is None
    assert evidence["status"] == 200 and "Thank you for your message" in evidence["text"]
    (posted,) = sites.bodies["cf7-studio.com"]
    assert (
        posted["_wpnonce"] == sites.issued["cf7-studio.com"] != "nonce-1"
    )  # the nonce of the visit just before
    assert posted["_wpcf7"] == "12" and posted["your-email"] == "outreach@localhost"
    assert (
        "/unsubscribe_webhook?token=" in posted["your-message"]
        and flow[4].split("\n")[0] in posted["your-message"]
    )
    assert sender.run()["sent"] == 0 and sites.posts["cf7-studio.com"] == 1


def test_a_plain_form_that_redirects_to_a_thank_you_page(conn, sites):
    _, ((flow_id, *_),) = reach(conn, sites, "plain-studio.com")
    approve(conn, flow_id)
    assert sender.run()["sent"] == 1
    status, _, evidence = outcome(conn, flow_id)
    assert status == "sent" and evidence == {
        "status": 303,
        "final_url": sites.url("plain-studio.com") + "/thanks",
    }


def test_a_site_answering_with_a_field_error_fails_with_the_evidence(conn, sites):
    _, ((flow_id, *_),) = reach(conn, sites, "strict-studio.com")
    approve(conn, flow_id)
    assert sender.run()["failed"] == 1
    status, reason, evidence = outcome(conn, flow_id)
    assert (
        status == "failed" and reason.startswith("refused: the site said:") and "required" in evidence["text"]
    )
    assert sites.posts["strict-studio.com"] == 1


@pytest.mark.parametrize(
    ("site", "why"),
    [
        ("captcha-studio.com", "a CAPTCHA protects it"),
        ("nosales-studio.com", "the site says it accepts no sales or marketing messages"),
    ],
)
def test_never_behind_a_captcha_or_a_no_solicitation_notice(conn, sites, site, why):
    row, flows = reach(conn, sites, site)
    assert flows is None and why in row[1]
    assert conn.execute("SELECT count(*) FROM contact_forms WHERE site = %s", (site,)).fetchone() == (0,)
    assert sites.posts[site] == 0


def test_a_captcha_added_after_the_scrape_stops_the_submission(conn, sites, monkeypatch):
    _, ((flow_id, *_),) = reach(conn, sites, "cf7-later.com")
    approve(conn, flow_id)
    page = sites.page
    monkeypatch.setattr(sites, "page", lambda site: page("captcha-" + site))
    assert sender.run()["failed"] == 1
    assert outcome(conn, flow_id)[1] == "refused: not submitted: a CAPTCHA protects it"
    assert sites.posts["cf7-later.com"] == 0


def test_a_newsletter_form_is_no_contact_form(conn, sites):
    row, flows = reach(conn, sites, "newsletter-studio.com")
    assert flows is None and sites.posts["newsletter-studio.com"] == 0


def test_a_required_field_it_cannot_fill_is_refused_never_guessed(conn, sites):
    _, ((flow_id, *_),) = reach(conn, sites, "consent-studio.com")
    approve(conn, flow_id)
    assert sender.run()["failed"] == 1
    assert (
        outcome(conn, flow_id)[1]
        == "refused: not submitted: a required field cannot be filled: I accept the privacy policy"
    )
    assert sites.posts["consent-studio.com"] == 0


def test_email_campaigns_never_enroll_a_form_contact(conn, sites):
    row, linked = scrape(conn, sites.url("cf7-emailonly.com"), ai_settings={"sending_window": ALWAYS})
    assert linked == [] and "1 contact form" in row[1]
    assert conn.execute("SELECT count(*) FROM contacts WHERE form_site = 'cf7-emailonly.com'").fetchone() == (
        0,
    )


def test_several_senders_at_once_post_each_approved_form_once(conn, sites):
    names = [f"cf7-{i}.com" for i in range(4)] + [f"plain-{i}.com" for i in range(4)]
    flows = []
    for name in names:
        _, ((flow_id, *_),) = reach(conn, sites, name)
        approve(conn, flow_id)
        flows.append(flow_id)
    results = []
    threads = [threading.Thread(target=lambda: results.append(sender.run(limit=3))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while sender.run()["claimed"]:
        pass
    assert all(sites.posts[name] == 1 for name in names), sites.posts
    assert {outcome(conn, x)[0] for x in flows} == {"sent"}


def test_one_form_message_per_site_per_organization_in_90_days(conn, sites):
    _, ((first, *_),) = reach(conn, sites, "plain-once.com")
    approve(conn, first)
    assert sender.run()["sent"] == 1
    org = conn.execute("SELECT organization_id FROM contacts WHERE form_site = 'plain-once.com'").fetchone()[
        0
    ]
    contact = conn.execute("SELECT id FROM contacts WHERE form_site = 'plain-once.com'").fetchone()[0]
    again = f.campaign(conn, org, ai_settings=FORMS_ONLY)
    f.link(conn, again, contact)
    second = f.flow(conn, again, contact, flow_type="form_submission")
    result = sender.run()
    assert result["sent"] == 0 and sites.posts["plain-once.com"] == 1
    assert outcome(conn, second)[:2] == (
        "canceled",
        "canceled: the site received a form message from the organization in the last 90 days",
    )


def test_the_unsubscribe_page_of_a_form_message_names_the_site(conn, sites):
    from shared.inbound import tokens

    _, ((flow_id, *_),) = reach(conn, sites, "plain-page.com")
    answer = function_client("unsubscribe_webhook").get(f"/?token={tokens.issue(flow_id)}")
    assert answer.status_code == 200 and "plain-page.com" in answer.get_data(as_text=True)


def test_a_redirect_loop_fails_the_scrape_with_its_reason(conn, sites):
    def loop(handler):
        if handler.path == "/robots.txt":
            return 404, {}, b""
        return 302, {"Location": handler.path}, b""

    with http_server(loop) as base:
        row, flows = scrape(conn, base, ai_settings=FORMS_ONLY)
    assert row[0] == "failed" and "too many redirects" in row[1]


def test_scrape_url_stores_the_usable_contact_form_and_says_why_others_are_not_used(conn, env):
    env(ALLOW_PRIVATE_NETWORK="true", CRAWL_EXTRA_PAGES=2)
    home_page = (
        '<html><body><a href="/contact/">Contact</a><a href="/about/">About us</a>'
        "<p>hola@greenleaf-studio.com</p></body></html>"
    )
    contact = f"<html><body>{CF7}</body></html>"
    captcha = f"<html><body>{CF7.replace('</form>', '<div class=g-recaptcha></div></form>')}</body></html>"
    pages = {"/": home_page, "/contact/": contact, "/about/": captcha}

    def respond(handler):
        if handler.path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"
        body = pages.get(handler.path.split("#")[0])
        return (200, {"Content-Type": "text/html"}, body.encode()) if body else (404, {}, b"")

    with http_server(respond) as base:
        row, linked = scrape(conn, base)
        stored = conn.execute(
            "SELECT page_url, action, roles, fields FROM contact_forms WHERE scrape_result_id ="
            " (SELECT source_scrape_id FROM contacts WHERE email = 'hola@greenleaf-studio.com'"
            "  ORDER BY created_at DESC LIMIT 1)"
        ).fetchall()
    assert linked == ["hola@greenleaf-studio.com"]
    assert [(r[0], r[1]) for r in stored] == [(base + "/contact/", base + "/contact/")]
    assert stored[0][2] == {
        "name": "your-name",
        "email": "your-email",
        "subject": "your-subject",
        "message": "your-message",
    }
    assert {f["name"]: f["value"] for f in stored[0][3] if f["kind"] == "hidden"}["_wpnonce"] == "a1b2c3d4e5"
    assert "1 contact form" in row[1] and f"forms not used: {base}/about/: a CAPTCHA protects it" in row[1]


# --- only the approved form, only on the approved site ---

PLAIN_FORM = (
    '<form action="{action}" method="post"><label>Name <input name="name" required></label>'
    '<label>Email <input type="email" name="email" required></label>'
    '<label>Message <textarea name="{message}" required></textarea></label><button>Send</button></form>'
)


def test_a_form_page_that_now_redirects_to_another_site_gets_nothing_posted(conn, sites):
    """The approved page redirects to another host, whose form looks the same: our message,
    name, reply address and unsubscribe link must not be posted there."""
    _, ((flow_id, *_),) = reach(conn, sites, "plain-moving.com")
    approve(conn, flow_id)
    sites.moved["plain-moving.com"] = sites.url("plain-elsewhere.com")
    assert sender.run()["failed"] == 1
    status, reason, _ = outcome(conn, flow_id)
    assert status == "failed" and "is not on the approved site plain-moving.com" in reason
    assert sites.posts["plain-elsewhere.com"] == 0 and sites.posts["plain-moving.com"] == 0


def test_a_redirect_through_another_site_and_back_is_refused_too(conn, sites):
    """Every hop is checked, not only where the redirects end: the page now passes through
    another host (which learns of the visit and could answer anything) before coming back."""
    _, ((flow_id, *_),) = reach(conn, sites, "plain-roundtrip.com")
    approve(conn, flow_id)
    relay = "plain-relay.com"
    sites.detours["plain-roundtrip.com"] = relay
    assert sender.run()["failed"] == 1
    status, reason, _ = outcome(conn, flow_id)
    assert status == "failed" and f"{relay}" in reason and "not on the approved site" in reason
    assert sites.posts["plain-roundtrip.com"] == 0


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("/newsletter-and-contact", "message"),  # another form: the approved one is gone
        ("/send", "comments"),  # the same action, but the message goes to another field now
    ],
)
def test_only_the_approved_form_is_ever_posted(conn, sites, monkeypatch, action, message):
    _, ((flow_id, *_),) = reach(conn, sites, "plain-changed.com")
    approve(conn, flow_id)
    monkeypatch.setattr(sites, "page", lambda site: home(PLAIN_FORM.format(action=action, message=message)))
    assert sender.run()["failed"] == 1
    assert outcome(conn, flow_id)[:2] == (
        "failed",
        "refused: the approved contact form is no longer on its page",
    )
    assert sites.posts["plain-changed.com"] == 0


def test_a_form_action_that_can_never_be_reached_fails_at_once_with_the_reason(conn, sites, monkeypatch):
    """robots.txt of an address the fetcher refuses is not "could not be read, try again"."""
    _, ((flow_id, *_),) = reach(conn, sites, "plain-blocked.com")
    approve(conn, flow_id)
    target = sites.url("plain-blocked.com").replace("http://", "http://user:pw@") + "/send"
    conn.execute(  # as the form was when it was found and approved
        "UPDATE contact_forms SET action = %s WHERE site = 'plain-blocked.com'", (target,)
    )
    monkeypatch.setattr(sites, "page", lambda site: home(PLAIN_FORM.format(action=target, message="message")))
    result = sender.run()
    assert (result["failed"], result["deferred"]) == (1, 0)
    status, reason, _ = outcome(conn, flow_id)
    assert status == "failed" and "blocked address: credentials in the URL" in reason
    assert conn.execute("SELECT attempts FROM outreach_flows WHERE id = %s", (flow_id,)).fetchone() == (1,)
    assert sites.posts["plain-blocked.com"] == 0
