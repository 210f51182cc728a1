"""The safe fetcher (promise 5): refused targets, hostile servers, robots.txt."""

from __future__ import annotations

import gzip
import time

import pytest

from shared.discovery import fetch
from tests.helpers import http_server


@pytest.fixture
def strict(env):
    env(ALLOW_PRIVATE_NETWORK="false", FETCH_DEADLINE="3", FETCH_READ_TIMEOUT="2")
    fetch._robots.clear()
    yield
    fetch.resolver = fetch.system_resolver


@pytest.fixture
def relaxed(env):
    env(ALLOW_PRIVATE_NETWORK="true", FETCH_DEADLINE="3", FETCH_READ_TIMEOUT="2")
    fetch._robots.clear()
    yield
    fetch.resolver = fetch.system_resolver


REFUSED = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://2130706433/",
    "http://0x7f.0.0.1/",
    "http://017700000001/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "file:///etc/passwd",
    "ftp://example.com/",
    "gopher://example.com:70/",
    "http://user:pass@example.com/",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("url", REFUSED)
def test_refused_target(strict, url):
    with pytest.raises(fetch.Blocked):
        fetch.fetch(url)


def test_public_looking_name_resolving_to_loopback_is_refused(strict):
    fetch.resolver = lambda host, port: (
        ["127.0.0.1"] if host == "studio.example.com" else fetch.system_resolver(host, port)
    )
    with pytest.raises(fetch.Blocked, match="127.0.0.1"):
        fetch.fetch("http://studio.example.com/")


def test_name_with_one_private_address_among_public_ones_is_refused(strict):
    fetch.resolver = lambda host, port: ["93.184.215.14", "10.1.2.3"]
    with pytest.raises(fetch.Blocked, match="10.1.2.3"):
        fetch.fetch("http://mixed.example.com/")


def _loopback_as_public(monkeypatch):
    """A test seam: 127.0.0.1 plays a public server; every other address is checked for real."""
    real = fetch.check_address
    monkeypatch.setattr(fetch, "check_address", lambda ip: None if ip == "127.0.0.1" else real(ip))


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "http://[::1]:8080/",
    ],
)
def test_public_page_redirecting_to_an_internal_address_is_refused(strict, monkeypatch, target):
    _loopback_as_public(monkeypatch)

    def respond(handler):
        return 302, {"Location": target}, b""

    with http_server(respond) as base:
        port = base.rsplit(":", 1)[1]
        fetch.resolver = lambda host, p: (
            ["127.0.0.1"] if host == "public.example.com" else fetch.system_resolver(host, p)
        )
        with pytest.raises(fetch.Blocked):
            fetch.fetch(f"http://public.example.com:{port}/")


def test_connection_goes_to_the_checked_address_no_rebinding(strict, monkeypatch):
    """The name is resolved once per hop and the connection made to that address, so a second,
    different answer (DNS rebinding) is never used."""
    _loopback_as_public(monkeypatch)
    answers = iter([["127.0.0.1"], ["10.0.0.1"], ["10.0.0.1"]])
    calls = []

    def rebinding(host, port):
        calls.append(host)
        return next(answers)

    seen = {}

    def respond(handler):
        seen["host"] = handler.headers["Host"]
        return 200, {"Content-Type": "text/html"}, b"<html><body>hi</body></html>"

    with http_server(respond) as base:
        port = base.rsplit(":", 1)[1]
        fetch.resolver = rebinding
        page = fetch.fetch(f"http://rebind.example.com:{port}/")
    assert page.text.endswith("hi</body></html>")
    assert calls == ["rebind.example.com"]
    assert seen["host"] == f"rebind.example.com:{port}"


def test_too_many_redirects(relaxed):
    def respond(handler):
        return 302, {"Location": handler.path + "x"}, b""

    with http_server(respond) as base:
        with pytest.raises(fetch.FetchError, match="too many redirects"):
            fetch.fetch(base + "/")


def test_page_over_the_size_cap(relaxed):
    def respond(handler):
        return 200, {"Content-Type": "text/html"}, b"<html>" + b"a" * (3 * 1024 * 1024)

    with http_server(respond) as base:
        with pytest.raises(fetch.FetchError, match="too large"):
            fetch.fetch(base + "/")


def test_gzip_bomb_stops_at_the_cap(relaxed):
    bomb = gzip.compress(b"<html>" + b"\0" * (200 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 300_000

    def respond(handler):
        return 200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, bomb

    with http_server(respond) as base:
        with pytest.raises(fetch.FetchError, match="too large"):
            fetch.fetch(base + "/")


def test_gzip_page_is_decoded(relaxed):
    def respond(handler):
        body = gzip.compress("<html><body>café</body></html>".encode())
        return 200, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}, body

    with http_server(respond) as base:
        assert "café" in fetch.fetch(base + "/").text


def test_drip_feed_past_the_deadline(relaxed):
    def respond(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        for _ in range(100):
            try:
                handler.wfile.write(b"a")
                handler.wfile.flush()
            except OSError:
                return None
            time.sleep(1)
        return None

    with http_server(respond) as base:
        started = time.monotonic()
        with pytest.raises(fetch.FetchError, match="timeout"):
            fetch.fetch(base + "/")
        assert time.monotonic() - started < 10


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "application/json", ""])
def test_non_html_is_refused(relaxed, content_type):
    def respond(handler):
        return 200, {"Content-Type": content_type} if content_type else {}, b"%PDF-1.7 ..."

    with http_server(respond) as base:
        with pytest.raises(fetch.FetchError, match="not HTML"):
            fetch.fetch(base + "/report.pdf")


def test_charset_from_meta_and_user_agent_sent(relaxed):
    seen = {}

    def respond(handler):
        seen["ua"] = handler.headers["User-Agent"]
        return (
            200,
            {"Content-Type": "text/html"},
            '<meta charset="iso-8859-1"><p>Señora</p>'.encode("latin-1"),
        )

    with http_server(respond) as base:
        assert "Señora" in fetch.fetch(base + "/").text
    assert seen["ua"].startswith("OutreachBot/")


@pytest.mark.parametrize(
    ("status", "body", "allowed"),
    [
        (200, "User-agent: *\nDisallow: /private/\n", True),
        (200, "User-agent: OutreachBot\nDisallow: /\n", False),
        (404, "", True),
        (403, "", True),
        (500, "", False),
        (503, "", False),
    ],
)
def test_robots_txt(relaxed, status, body, allowed):
    def respond(handler):
        if handler.path == "/robots.txt":
            return status, {"Content-Type": "text/plain"}, body.encode()
        return 200, {"Content-Type": "text/html"}, b"<html></html>"

    with http_server(respond) as base:
        assert fetch.robots_allows(base + "/index.html") is allowed
        if status == 200 and allowed:
            assert fetch.robots_allows(base + "/private/x") is False


def test_unreachable_robots_disallows(relaxed):
    assert fetch.robots_allows("http://127.0.0.1:1/page") is False


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_broken_compression_is_a_final_fetch_error(relaxed, encoding):
    def respond(handler):
        return (
            200,
            {"Content-Type": "text/html", "Content-Encoding": encoding},
            b"\x1f\x8b not really compressed",
        )

    with http_server(respond) as base:
        with pytest.raises(
            fetch.FetchError, match="^unreadable: the page's gzip or deflate encoding is broken"
        ):
            fetch.fetch(base + "/")


@pytest.mark.parametrize(
    "location", ["http://xn--zz.example/", "http://exa mple.com/", "http://%41.example/"]
)
def test_an_odd_location_is_refused_not_an_internal_error(relaxed, location):
    def respond(handler):
        return 302, {"Location": location}, b""

    with http_server(respond) as base:
        with pytest.raises(fetch.Blocked):
            fetch.fetch(base + "/")


@pytest.mark.parametrize(
    ("status", "transient"), [(503, True), (500, True), (429, True), (404, False), (410, False)]
)
def test_an_error_status_is_transient_or_final_by_its_class(relaxed, status, transient):
    def respond(handler):
        return status, {"Content-Type": "text/html"}, b"<html></html>"

    with http_server(respond) as base:
        with pytest.raises(fetch.HttpStatus) as caught:
            fetch.fetch(base + "/")
    assert caught.value.status == status
    assert isinstance(caught.value, fetch.Transient) is transient


def test_unreachable_and_unresolvable_are_transient_blocked_and_not_html_are_final(relaxed):
    with pytest.raises(fetch.Transient):
        fetch.fetch("http://127.0.0.1:1/")
    with pytest.raises(fetch.Transient):
        fetch.fetch("http://no-such-host.invalid/")
    with pytest.raises(fetch.Blocked) as blocked:
        fetch.fetch("http://user:pass@example.com/")
    assert not isinstance(blocked.value, fetch.Transient)

    def respond(handler):
        return 200, {"Content-Type": "application/pdf"}, b"%PDF-1.7"

    with http_server(respond) as base, pytest.raises(fetch.FetchError) as caught:
        fetch.fetch(base + "/")
    assert not isinstance(caught.value, fetch.Transient)
