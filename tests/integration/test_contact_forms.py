"""The contact-form channel (issue 18), detection: scrape_url stores the usable contact form of a
site served on loopback, with every field and its role, and says why the others are not used."""

from __future__ import annotations

from tests.helpers import http_server
from tests.integration.test_guardrails import scrape
from tests.unit.test_forms import CF7


def test_scrape_url_stores_the_usable_contact_form_and_says_why_others_are_not_used(conn, env):
    env(ALLOW_PRIVATE_NETWORK="true", CRAWL_EXTRA_PAGES=2)
    home = (
        '<html><body><a href="/contact/">Contact</a><a href="/about/">About us</a>'
        "<p>hola@greenleaf-studio.com</p></body></html>"
    )
    contact = f"<html><body>{CF7}</body></html>"
    captcha = f"<html><body>{CF7.replace('</form>', '<div class=g-recaptcha></div></form>')}</body></html>"
    pages = {"/": home, "/contact/": contact, "/about/": captcha}

    def respond(handler):
        if handler.path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"
        body = pages.get(handler.path.split("#")[0])
        return (200, {"Content-Type": "text/html"}, body.encode()) if body else (404, {}, b"")

    with http_server(respond) as base:
        row, linked = scrape(conn, base)
        stored = conn.execute(
            "SELECT page_url, action, roles, fields FROM contact_forms WHERE organization_id ="
            " (SELECT organization_id FROM contacts WHERE email = 'hola@greenleaf-studio.com' ORDER BY created_at DESC LIMIT 1)"
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
