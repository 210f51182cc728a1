"""Whether a found address can receive mail, before it is enrolled: not at a disposable-address
domain, and its domain has a mail server (MX records, or an address record, RFC 5321 5.1) that
does not refuse all mail (a null MX, RFC 7505). Looked up once per domain an hour, with the
resolver DNS_NAMESERVERS names (the system's otherwise). A DNS failure is not an answer: the
caller tries again later. EMAIL_CHECK_DELIVERABILITY=false leaves the DNS part out."""

from __future__ import annotations

import threading
import time

import dns.exception
import dns.nameserver
import dns.resolver
from disposable_email_domains import blocklist

from shared.core.config import get_settings

CACHE_SECONDS = 3600
_cache: dict[str, tuple[float, str | None]] = {}
_lock = threading.Lock()


class DnsUnavailable(Exception):
    """The lookup failed (timeout, SERVFAIL, no nameserver answered); try again later."""


def refusal(email: str) -> str | None:
    """Why mail to this address cannot be delivered, or None when it can."""
    domain = email.rpartition("@")[2].lower().rstrip(".")
    if domain in blocklist or domain.split(".", 1)[-1] in blocklist:
        return "a disposable-address domain"
    if not get_settings().email_check_deliverability:
        return None
    with _lock:
        cached = _cache.get(domain)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    answer = _lookup(domain)
    with _lock:
        _cache[domain] = (time.monotonic() + CACHE_SECONDS, answer)
    return answer


def _resolver() -> dns.resolver.Resolver:
    servers = get_settings().nameservers
    if not servers:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in servers]
    resolver.lifetime = 5.0
    return resolver


def _lookup(domain: str) -> str | None:
    resolver = _resolver()
    try:
        answer = resolver.resolve(domain, "MX")
        hosts = [r.exchange.to_text(omit_final_dot=True) for r in answer]
        if hosts == [""] or hosts == ["."]:
            return "the domain accepts no mail (null MX)"
        return None
    except dns.resolver.NXDOMAIN:
        return "the domain does not exist"
    except dns.resolver.NoAnswer:
        pass
    except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout) as exc:
        raise DnsUnavailable(f"DNS lookup of {domain} failed: {type(exc).__name__}") from None
    for kind in ("A", "AAAA"):
        try:
            resolver.resolve(domain, kind)
            return None
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            continue
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise DnsUnavailable(f"DNS lookup of {domain} failed: {type(exc).__name__}") from None
    return "the domain has no mail server (no MX or address record)"


def forget() -> None:
    """Empties the cache (tests)."""
    with _lock:
        _cache.clear()
