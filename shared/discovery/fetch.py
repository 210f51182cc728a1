"""The safe fetcher (promise 5): public http(s) addresses only, checked on every redirect hop
and connected to by the very address that was checked; time, bytes and content type capped;
robots.txt honoured (RFC 9309, with protego)."""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from protego import Protego

from shared.core.config import get_settings
from shared.discovery.errors import AnswerLost as AnswerLost
from shared.discovery.errors import Blocked as Blocked
from shared.discovery.errors import FetchError as FetchError
from shared.discovery.errors import HttpStatus as HttpStatus
from shared.discovery.errors import Transient as Transient

MAX_REDIRECTS = 5
MAX_BYTES = 2 * 1024 * 1024
ROBOTS_MAX_BYTES = 512 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
ROBOTS_TTL = 3600.0
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{1,40})""", re.IGNORECASE
)


@dataclass(frozen=True)
class Page:
    url: str  # after redirects
    status: int
    content_type: str
    text: str


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Transient(f"the host {host!r} does not resolve") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# Replaced by tests, to make a public-looking name resolve to loopback.
resolver: Callable[[str, int], list[str]] = system_resolver


def check_address(ip: str) -> None:
    address = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    bad = (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )
    if bad:
        raise Blocked(f"blocked address: {address} is not a public address")


def _target(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise Blocked("blocked address: the URL cannot be parsed") from None
    if parts.scheme not in ("http", "https"):
        raise Blocked(f"blocked address: the {parts.scheme or 'missing'} scheme is not http(s)")
    if not host:
        raise Blocked("blocked address: the URL has no host")
    if not _plausible_host(host):
        raise Blocked("blocked address: the URL cannot be parsed")
    if parts.username or parts.password:
        raise Blocked("blocked address: credentials in the URL")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def checked_target(url: str) -> tuple[str, str, int]:
    """The scheme, host and port of an http(s) URL without credentials (Blocked otherwise)."""
    return _target(url)


HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_-]{1,63})*\.?$", re.IGNORECASE
)


def _plausible_host(host: str) -> bool:
    """An IP address or a DNS name (IDNs in their ASCII form); not a name with spaces or controls."""
    try:
        ipaddress.ip_address(host.split("%")[0])
        return True
    except ValueError:
        pass
    try:
        return bool(HOSTNAME.match(host.encode("idna").decode("ascii")))
    except UnicodeError:
        return False


def resolve_checked(host: str, port: int) -> str:
    """The address to connect to, once every address the host resolves to passed the rules."""
    addresses = resolver(host, port)
    if not addresses:
        raise Transient(f"the host {host!r} does not resolve")
    if not get_settings().allow_private_network:
        for ip in addresses:  # every address, not only the one we use
            check_address(ip)
    return addresses[0]


def _decoder(encoding: str) -> zlib._Decompress | None:
    encoding = encoding.lower().strip()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise FetchError(f"unsupported content encoding {encoding!r}")


def _read_capped(response: httpx.Response, cap: int, deadline: float) -> bytes:
    """The decoded body, stopping at `cap` bytes: a compression bomb never inflates past it."""
    decoder = _decoder(response.headers.get("Content-Encoding", ""))
    out = bytearray()
    for chunk in response.iter_raw():  # as it arrives: a buffered read would outlast the deadline
        if time.monotonic() > deadline:
            raise Transient("timeout: the page took longer than the deadline")
        if decoder is None:
            out += chunk
        else:
            data = decoder.decompress(chunk, cap + 1 - len(out))
            out += data
            while decoder.unconsumed_tail and len(out) <= cap:
                out += decoder.decompress(decoder.unconsumed_tail, cap + 1 - len(out))
        if len(out) > cap:
            raise FetchError(f"too large: the page is over {cap // 1024} KB")
    return bytes(out)


def decode(body: bytes, header_charset: str | None) -> str:
    for charset in (header_charset, *(m.decode() for m in _META_CHARSET.findall(body[:4096])[:1])):
        if charset:
            try:
                return body.decode(charset)
            except (LookupError, UnicodeDecodeError):
                continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _client() -> httpx.Client:
    s = get_settings()
    timeout = httpx.Timeout(connect=s.fetch_connect_timeout, read=s.fetch_read_timeout, write=5.0, pool=5.0)
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, http2=False)


def fetch(
    url: str,
    *,
    accept: tuple[str, ...] = HTML_TYPES,
    cap: int = MAX_BYTES,
    form: Form | None = None,
    hop_check: Callable[[str], None] | None = None,
) -> Page:
    """GET a page; with `form`, POST it instead and answer whatever the site answers, its status
    and page, or the address it redirects to (not fetched: the form was received), so the
    caller can read the outcome. `hop_check` sees every address before it is requested, the
    first and each redirect's, and refuses one by raising Blocked."""
    settings = get_settings()
    deadline = time.monotonic() + settings.fetch_deadline
    client = _client()
    # Timeouts are per read: a server dripping bytes never trips them. The watchdog closes the
    # connection at the overall deadline, whatever the fetch is doing.
    watchdog = threading.Timer(settings.fetch_deadline, client.close)
    watchdog.daemon = True
    watchdog.start()
    try:
        return _fetch(client, url, accept, cap, deadline, form, hop_check)
    except zlib.error:
        raise FetchError("unreadable: the page's gzip or deflate encoding is broken") from None
    except (httpx.InvalidURL, UnicodeError):
        # An address httpx cannot carry (an odd Location header, an invalid IDNA name): final.
        raise Blocked("blocked address: the URL cannot be parsed") from None
    except AnswerLost:
        raise
    except (httpx.HTTPError, RuntimeError, OSError) as exc:
        if time.monotonic() >= deadline:
            raise Transient("timeout: the page took longer than the deadline") from None
        raise Transient(f"unreachable: {type(exc).__name__}") from None
    finally:
        watchdog.cancel()
        client.close()


@dataclass(frozen=True)
class Form:
    """What a form sends: its fields, urlencoded or as multipart/form-data."""

    fields: list[tuple[str, str]]
    multipart: bool = False


def _fetch(
    client: httpx.Client,
    url: str,
    accept: tuple[str, ...],
    cap: int,
    deadline: float,
    form: Form | None = None,
    hop_check: Callable[[str], None] | None = None,
) -> Page:
    settings = get_settings()
    headers = {
        "User-Agent": settings.crawler_user_agent,
        "Accept": "text/html,application/xhtml+xml;q=0.9",
        "Accept-Encoding": "gzip, deflate",
    }
    for _ in range(MAX_REDIRECTS + 1):
        if hop_check is not None:
            hop_check(url)
        scheme, host, port = _target(url)
        ip = resolve_checked(host, port)
        parts = urlsplit(url)
        literal = f"[{ip}]" if ":" in ip else ip
        direct = urlunsplit((scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        payload: dict[str, Any] = {}
        if form is not None:
            payload = (
                {"files": [(k, (None, v)) for k, v in form.fields]}
                if form.multipart
                else {"data": dict(form.fields)}
            )
        request = client.build_request(
            "POST" if form is not None else "GET",
            direct,
            headers={**headers, "Host": parts.netloc.rsplit("@", 1)[-1]},
            extensions={"sni_hostname": host, "timeout": client.timeout.as_dict()},
            **payload,
        )
        try:
            response = client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise Transient("unreachable: the site did not accept the connection") from None
        except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            if form is not None:
                raise AnswerLost(f"the form was sent but no answer came: {type(exc).__name__}") from None
            raise Transient("timeout: the site did not answer in time") from None
        posted = form is not None
        try:
            if response.is_redirect and "Location" in response.headers:
                if posted:
                    return Page(urljoin(url, response.headers["Location"]), response.status_code, "", "")
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status_code >= 400 and not posted:
                raise HttpStatus.of(response.status_code)
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type not in accept and not posted:
                raise FetchError(f"not HTML: the content type is {content_type or 'missing'}")
            try:
                body = _read_capped(response, cap, deadline)
            except httpx.TimeoutException:
                raise Transient("timeout: the site stopped sending") from None
            return Page(url, response.status_code, content_type, decode(body, response.charset_encoding))
        finally:
            response.close()
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})")


_robots: dict[str, tuple[float, Protego | bool]] = {}
_robots_lock = threading.Lock()


def robots_allows(url: str) -> bool:
    """RFC 9309: a 4xx robots.txt allows everything; a 5xx or an unreachable one allows nothing."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    with _robots_lock:
        cached = _robots.get(origin)
    if cached is None or cached[0] < time.monotonic():
        try:
            page = fetch(f"{origin}/robots.txt", accept=("text/plain", "text/html", ""), cap=ROBOTS_MAX_BYTES)
            rules: Protego | bool = Protego.parse(page.text) if page.content_type == "text/plain" else True
        except HttpStatus as exc:
            rules = 400 <= exc.status < 500
        except Blocked:
            raise
        except FetchError:
            rules = False
        cached = (time.monotonic() + ROBOTS_TTL, rules)
        with _robots_lock:
            _robots[origin] = cached
    rules = cached[1]
    if isinstance(rules, bool):
        return rules
    return rules.can_fetch(url, get_settings().crawler_user_agent)
