"""deliver_events: sends what is due in the outbox of signed webhooks, at least once.

Each delivery is a POST of the stored body with Standard Webhooks' headers (signing.py), to the
address the fetcher's rules allow (shared/discovery/fetch.py: the name resolved and every
address checked, the connection made to the checked address; loopback and private networks
only with ALLOW_PRIVATE_NETWORK), no redirect followed, the whole request bounded by
EVENTS_TIMEOUT and the answer read up to EVENTS_RESPONSE_BYTES. A 2xx is delivered; anything
else is tried again with the same webhook-id on Standard Webhooks' schedule, up to
EVENTS_RETRY_HOURS after the event, then failed with the reason.

Deliveries run concurrently, at most EVENTS_PER_ENDPOINT at once to one endpoint, and new ones
are claimed as soon as a slot frees: a slow endpoint holds its own slots only, never another
endpoint's or another organization's events.
"""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg.rows import class_row, dict_row

from shared.core import db
from shared.core.config import get_settings
from shared.core.logs import get_logger
from shared.core.queries import sql
from shared.discovery import fetch
from shared.events import signing

log = get_logger(__name__)
BLOCKED = "blocked address: the endpoint is not a public address"

USER_AGENT = "Outreach-Webhooks/1.0"
# Standard Webhooks' retry schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) as multiples of
# the first delay; the last attempt is made at the event's age limit (24 hours).
SCHEDULE = (1, 60, 360, 1440, 3600, 7200, 7200)
# How often a call with deliveries in flight looks for newly due ones.
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Delivery:
    id: uuid.UUID
    endpoint_id: uuid.UUID
    organization_id: uuid.UUID
    event_type: str
    attempts: int
    body: str
    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    http_status: int | None = None
    reason: str | None = None
    final: bool = False  # no point trying again (an address the rules refuse)


_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every delivery: making one loads the CA bundle, which
    costs more than a request to a nearby endpoint. SSLContext is safe to share between threads."""
    global _tls
    with _tls_lock:
        if _tls is None:
            _tls = httpx.create_ssl_context()
        return _tls


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt, after `attempts` attempts."""
    step = SCHEDULE[min(attempts, len(SCHEDULE)) - 1]
    return get_settings().events_retry_base_seconds * step


def lease_seconds() -> float:
    # Longer than any attempt, with room to record its outcome.
    return get_settings().events_timeout + 60


def post(delivery: Delivery) -> Outcome:
    """One attempt. The endpoint's faults are outcomes with a reason, never exceptions; the
    reason names no URL (one may hold a token) and no secret."""
    settings = get_settings()
    try:
        scheme, host, port = fetch.checked_target(delivery.url)
        if scheme == "http" and not settings.allow_private_network:
            return Outcome(False, reason="blocked address: plain http; endpoints use https", final=True)
        ip = fetch.resolve_checked(host, port)
    except fetch.Blocked as exc:
        # Members read the reason: it names no address the host resolved to (that would map the
        # deployment's network for whoever registers an internal name); the log keeps it.
        log.warning(
            "a webhook endpoint is blocked", extra={"delivery_id": str(delivery.id), "reason": str(exc)}
        )
        return Outcome(False, reason=BLOCKED, final=True)
    except fetch.FetchError as exc:
        return Outcome(False, reason=str(exc))
    parts = urlsplit(delivery.url)
    literal = f"[{ip}]" if ":" in ip else ip
    direct = urlunsplit((scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": parts.netloc,
        **signing.headers(delivery.secret, signing.message_id(delivery.id), delivery.body),
    }
    timeout = settings.events_timeout
    client = httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        http2=False,
        verify=tls_context(),
    )
    # Timeouts are per read: the watchdog closes the connection at the whole request's limit.
    watchdog = threading.Timer(timeout, client.close)
    watchdog.daemon = True
    deadline = time.monotonic() + timeout
    watchdog.start()
    try:
        request = client.build_request(
            "POST",
            direct,
            headers=headers,
            content=delivery.body.encode(),
            extensions={"sni_hostname": host, "timeout": client.timeout.as_dict()},
        )
        response = client.send(request, stream=True)
        try:
            _read_capped(response, settings.events_response_bytes, deadline)
        except (httpx.HTTPError, OSError, RuntimeError):
            pass  # the status came: it decides, whatever the rest of the answer does
        finally:
            response.close()
    except httpx.ConnectError:
        return Outcome(False, reason="unreachable: the endpoint did not accept the connection")
    except (httpx.HTTPError, OSError, RuntimeError) as exc:
        if time.monotonic() >= deadline or isinstance(exc, httpx.TimeoutException):
            return Outcome(False, reason=f"timeout: no answer within {timeout:g} s")
        return Outcome(False, reason=f"unreachable: {type(exc).__name__}")
    finally:
        watchdog.cancel()
        client.close()
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(True, http_status=status)
    if response.is_redirect:
        return Outcome(False, http_status=status, reason=f"HTTP status {status}: redirects are not followed")
    return Outcome(False, http_status=status, reason=f"HTTP status {status}")


def _read_capped(response: httpx.Response, cap: int, deadline: float) -> None:
    """Reads the answer (its status decides) up to `cap` bytes, then stops listening."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read > cap or time.monotonic() > deadline:
            return


def attempt(delivery: Delivery) -> Outcome:
    try:
        return post(delivery)
    except Exception as exc:  # a fault of ours: tried again after its delay, like the endpoint's
        log.exception("webhook delivery crashed", extra={"delivery_id": str(delivery.id)})
        return Outcome(False, reason=f"internal error: {type(exc).__name__}")


def settle_and_claim(
    conn: psycopg.Connection, results: list[tuple[Delivery, Outcome]], limit: int, busy: Counter[uuid.UUID]
) -> tuple[Counter[str], list[Delivery]]:
    """Records finished attempts and claims up to `limit` more, in one transaction sent as one
    round trip (a pipeline). Each attempt settles only the claim it was made under (its attempt
    number): an answer that came after the lease, when another deliverer may have the row,
    changes nothing.

    The transaction does not wait for its commit to reach the disk (synchronous_commit off,
    for this transaction only, so a pooled connection is left as it was): waiting cost more
    than the rest of the statement. A database crash can lose such a commit, which only makes
    a delivery repeat (its claim or its record is lost; at least once, with the same
    webhook-id); the events themselves are committed by their cause's own transaction."""
    settings = get_settings()
    done = [(d, o) for d, o in results if o.delivered]
    failed = [(d, o) for d, o in results if not o.delivered]
    retry = claim = None
    with conn.pipeline(), conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        if done:
            conn.execute(
                sql("events-delivered"),
                {
                    "ids": [d.id for d, _ in done],
                    "attempts": [d.attempts for d, _ in done],
                    "statuses": [o.http_status for _, o in done],
                },
            )
        if failed:
            retry = conn.cursor(row_factory=dict_row)
            retry.execute(
                sql("events-retry"),
                {
                    "ids": [d.id for d, _ in failed],
                    "attempts": [d.attempts for d, _ in failed],
                    "statuses": [o.http_status for _, o in failed],
                    "reasons": [o.reason for _, o in failed],
                    "finals": [o.final for _, o in failed],
                    "waits": [retry_delay(d.attempts) for d, _ in failed],
                    "give_up": settings.events_retry_hours * 3600,
                },
            )
        if limit > 0:
            claim = conn.cursor(row_factory=class_row(Delivery))
            claim.execute(
                sql("events-claim"),
                {
                    "limit": limit,
                    "per_endpoint": settings.events_per_endpoint,
                    "busy_ids": list(busy),
                    "busy_counts": list(busy.values()),
                    "lease": lease_seconds(),
                },
            )
        states = {row["id"]: row["status"] for row in retry.fetchall()} if retry else {}
        claimed = claim.fetchall() if claim else []
    counts: Counter[str] = Counter(delivered=len(done))
    for delivery, outcome in failed:
        state = states.get(delivery.id, "lost")
        counts["failed" if state == "failed" else "retrying"] += 1
        log.warning(
            "webhook delivery failed",
            extra={
                "endpoint_id": str(delivery.endpoint_id),
                "delivery_id": str(delivery.id),
                "reason": outcome.reason,
                "attempts": delivery.attempts,
                "state": state,
            },
        )
    return +counts, claimed


def run(limit: int | None = None) -> dict[str, int]:
    """Delivers what is due until nothing is (or `limit` deliveries were taken, or the budget
    ran out), and answers the counts. This thread claims and records, on one connection; the
    pool's threads only make the requests."""
    settings = get_settings()
    deadline = time.monotonic() + settings.events_budget_seconds
    counts: Counter[str] = Counter()
    in_flight: dict[Future[Outcome], Delivery] = {}
    busy: Counter[uuid.UUID] = Counter()
    taken = 0
    results: list[tuple[Delivery, Outcome]] = []
    with (
        db.session() as conn,
        ThreadPoolExecutor(max_workers=settings.events_concurrency, thread_name_prefix="deliver") as pool,
    ):
        while True:
            free = settings.events_concurrency - len(in_flight)
            if limit is not None:
                free = min(free, limit - taken)
            if time.monotonic() >= deadline:
                free = 0
            settled, claimed = settle_and_claim(conn, results, max(free, 0), +busy)
            counts.update(settled)
            for delivery in claimed:
                in_flight[pool.submit(attempt, delivery)] = delivery
                busy[delivery.endpoint_id] += 1
            taken += len(claimed)
            if not in_flight:
                break
            done, _ = wait(in_flight, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            results = []
            for future in done:
                delivery = in_flight.pop(future)
                busy[delivery.endpoint_id] -= 1
                results.append((delivery, future.result()))
    return {"claimed": taken, **counts}
