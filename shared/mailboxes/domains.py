"""The domains an organization sends from, checked as Gmail, Yahoo and Outlook.com check bulk
senders: SPF (RFC 7208), DMARC (RFC 7489), the DKIM selectors an admin names, and MX.

send_due refreshes the checks that are due (once a day per domain) before its claim, with the
resolver DNS_NAMESERVERS names, as the address checks do; the claim then reads the stored
verdicts only, so no DNS lookup ever happens under its lock. SENDER_DOMAIN_CHECK decides what a
verdict does: `enforce` holds the first messages and follow-ups of a mailbox whose domain has no
SPF record that parses or no DMARC record, with a reason naming the record to publish; `warn`
lets the mail go and only records the reason; `off` checks nothing.

A DNS failure (timeout, SERVFAIL) is not a verdict: the last verdict stays and the check is
tried again after RETRY_SECONDS. SPF is evaluated by pyspf (its lookup and void-lookup limits
included), given this module's resolver.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import psycopg
from psycopg.types.json import Jsonb

from shared.core import db
from shared.core.config import get_settings
from shared.core.logs import get_logger

if TYPE_CHECKING:  # imported where used: dnspython is loaded only when a domain is checked
    from dns.resolver import Resolver

log = get_logger(__name__)

DEFAULT_SELECTORS = ("google", "selector1", "selector2", "default", "k1")
CHECK_EVERY_SECONDS = 24 * 3600
RETRY_SECONDS = 300
LEASE_SECONDS = 120
REFRESH_LIMIT = 20  # domains one send_due run checks at most
REFRESH_BUDGET_SECONDS = 20.0  # no new domain is started after this
DNS_LIFETIME = 3.0  # seconds one lookup may take, retries included
# An address no SPF record should name (TEST-NET-1, RFC 5737): evaluating it walks the whole
# record, so its lookups are all counted.
PROBE_ADDRESS = "192.0.2.1"
HOST_ADDRESSES = 4  # of each SMTP host's addresses, checked against SPF
MAX_SPF_LOOKUPS = 10  # RFC 7208 4.6.4: more is a permanent error at the receiver

# Where the usual hosted mailboxes send from: the include their SPF records need.
PROVIDER_INCLUDES = {
    "gmail.com": "include:_spf.google.com",
    "googlemail.com": "include:_spf.google.com",
    "google.com": "include:_spf.google.com",
    "office365.com": "include:spf.protection.outlook.com",
    "outlook.com": "include:spf.protection.outlook.com",
    "zoho.com": "include:zoho.com",
    "zoho.eu": "include:zoho.eu",
}
ALL_TERM = re.compile(r"^([-~?+]?)all$", re.I)
DMARC_START = re.compile(r"^v\s*=\s*DMARC1\s*(;|$)", re.I)


class DnsUnavailable(Exception):
    """A lookup failed (timeout, SERVFAIL, no nameserver answered): no verdict, try again later."""


@dataclass
class Verdict:
    """What one check found; stored as one sender_domain_checks row."""

    problem: str | None = None  # what holds cold mail under enforce, with the record to publish
    notes: list[str] = field(default_factory=list)
    spf_record: str | None = None
    spf_status: str = "missing"  # valid, missing or invalid
    spf_error: str | None = None
    spf_lookups: int | None = None
    spf_all: str | None = None
    spf_hosts: dict[str, str] = field(default_factory=dict)
    dmarc_domain: str | None = None
    dmarc_record: str | None = None
    dmarc_policy: str | None = None
    dmarc_subdomain_policy: str | None = None
    dmarc_rua: str | None = None
    dmarc_adkim: str | None = None
    dmarc_aspf: str | None = None
    dkim_status: str = "not checked"
    dkim: dict[str, str] = field(default_factory=dict)
    mx_hosts: list[str] = field(default_factory=list)


@dataclass
class DueCheck:
    organization_id: uuid.UUID
    domain: str
    smtp_endpoints: list[str]
    selectors: list[str]
    default_selectors: bool

    @property
    def smtp_hosts(self) -> list[str]:
        hosts = {urlsplit(e).hostname for e in self.smtp_endpoints}
        return sorted(h for h in hosts if h)

    @property
    def dkim_selectors(self) -> list[str]:
        return sorted(set(self.selectors) | (set(DEFAULT_SELECTORS) if self.default_selectors else set()))


@dataclass
class StoredVerdict:
    organization_id: uuid.UUID
    domain: str
    checked_at: datetime | None
    problem: str | None
    dns_error: str | None


# ---------------------------------------------------------------- the refresh (send_due, before its claim)


def refresh_due() -> int:
    """Checks the sending domains whose check is due; returns how many got a verdict."""
    if get_settings().sender_domain_check == "off":
        return 0
    deadline = time.monotonic() + REFRESH_BUDGET_SECONDS
    with db.transaction() as conn:
        db.execute(conn, "forget-unused-sender-domains")
        due = db.fetch_all(
            conn, "claim-sender-domain-checks", DueCheck, limit=REFRESH_LIMIT, lease=LEASE_SECONDS
        )
    checked = 0
    for item in due:
        if time.monotonic() > deadline:
            break  # the rest are taken again when their lease ends
        try:
            verdict = check(item.domain, item.smtp_hosts, item.dkim_selectors)
        except DnsUnavailable as exc:
            _failed(item, str(exc))
            continue
        except Exception as exc:  # hostile DNS data: this domain fails alone, and is retried
            log.exception("a sending domain's check failed", extra={"domain": item.domain})
            _failed(item, f"the check failed: {type(exc).__name__}")
            continue
        with db.transaction() as conn:
            params = asdict(verdict)
            params.update(spf_hosts=Jsonb(verdict.spf_hosts), dkim=Jsonb(verdict.dkim))
            db.execute(
                conn,
                "store-sender-domain-check",
                organization_id=item.organization_id,
                domain=item.domain,
                every=CHECK_EVERY_SECONDS,
                **params,
            )
        checked += 1
        if verdict.problem:
            log.warning(
                "a sending domain lacks SPF or DMARC",
                extra={"domain": item.domain, "problem": verdict.problem},
            )
    return checked


def _failed(item: DueCheck, reason: str) -> None:
    with db.transaction() as conn:
        db.execute(
            conn,
            "sender-domain-check-failed",
            organization_id=item.organization_id,
            domain=item.domain,
            reason=reason[:300],
            retry=RETRY_SECONDS,
        )
    log.warning("a sending domain could not be checked", extra={"domain": item.domain, "reason": reason})


# ---------------------------------------------------------------- the gate (inside the claim, no DNS)


class Held(Protocol):
    email: str
    held: str | None


def gate(conn: psycopg.Connection, boxes: Mapping[uuid.UUID, Sequence[Held]]) -> None:
    """Marks, under SENDER_DOMAIN_CHECK=enforce, each mailbox whose domain may not send cold
    mail (`held`, the reason); under warn only logs it. `boxes`: organization -> its mailboxes."""
    mode = get_settings().sender_domain_check
    if mode == "off" or not boxes:
        return
    verdicts = {
        (v.organization_id, v.domain): v
        for v in db.fetch_all(conn, "sender-domain-verdicts", StoredVerdict, organizations=list(boxes))
    }
    for organization, mailboxes in boxes.items():
        for box in mailboxes:
            domain = box.email.rpartition("@")[2]
            reason = _hold_reason(domain, verdicts.get((organization, domain)))
            if reason is None:
                continue
            if mode == "enforce":
                box.held = reason
            else:
                log.warning(
                    "sending despite the domain's check (warn)",
                    extra={"mailbox": box.email, "reason": reason},
                )


def _hold_reason(domain: str, verdict: StoredVerdict | None) -> str | None:
    if verdict is None or verdict.checked_at is None:
        failed = f" (the last try: {verdict.dns_error})" if verdict and verdict.dns_error else ""
        return f"its domain {domain} has no SPF and DMARC check yet{failed}; send_due checks it before its claims"
    return verdict.problem


def first_message_reason(listed: Sequence[Held]) -> str | None:
    """Why a first message waits when every mailbox it may use is unusable and one of them is
    held for its domain: that domain's reason, which names the record to publish."""
    for box in listed:
        if box.held:
            return f"deferred: the mailbox {box.email} is held: {box.held}"
    return None


# ---------------------------------------------------------------- the check itself (DNS)


def check(domain: str, smtp_hosts: list[str], selectors: list[str]) -> Verdict:
    """SPF, DMARC, DKIM at the named selectors, and MX of one domain. Raises DnsUnavailable."""
    resolver = _resolver()
    verdict = Verdict()
    addresses = {host: _addresses(resolver, host) for host in smtp_hosts}
    _check_spf(resolver, domain, addresses, verdict)
    _check_dmarc(resolver, domain, verdict)
    _check_dkim(resolver, domain, selectors, verdict)
    _check_mx(resolver, domain, verdict)
    problems = []
    if verdict.spf_status == "missing":
        problems.append(
            f"{domain} publishes no SPF record: publish a TXT record at {domain}: "
            f'"{spf_suggestion(addresses, smtp_hosts)}"'
        )
    elif verdict.spf_status == "invalid":
        problems.append(
            f"the SPF record of {domain} does not parse ({verdict.spf_error}): publish one TXT record at "
            f'{domain} with at most 10 DNS lookups, such as "{spf_suggestion(addresses, smtp_hosts)}"'
        )
    if verdict.dmarc_record is None or verdict.dmarc_policy is None:
        why = (
            "has no DMARC record"
            if verdict.dmarc_record is None
            else "has no usable DMARC record (no valid p=)"
        )
        problems.append(
            f"{domain} {why}: publish a TXT record at _dmarc.{domain}: "
            f'"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"'
        )
    verdict.problem = "; ".join(problems) or None
    return verdict


def _resolver() -> Resolver:
    import dns.nameserver
    import dns.resolver

    servers = get_settings().nameservers
    if not servers:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in servers]
    resolver.lifetime = DNS_LIFETIME
    return resolver


def _answer(resolver: Resolver, name: str, kind: str) -> list[Any]:
    """The records of one type; [] when the name or the type does not exist. Any: each type's
    record class has its own fields (address, exchange, strings)."""
    import dns.exception
    import dns.resolver

    try:
        return list(resolver.resolve(name, kind))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise DnsUnavailable(f"DNS lookup of {name} {kind} failed: {type(exc).__name__}") from None
    except dns.exception.DNSException as exc:  # a malformed name or answer: no record
        log.info("a DNS answer could not be read", extra={"name": name, "error": type(exc).__name__})
        return []


def _txt(resolver: Resolver, name: str) -> list[str]:
    return [b"".join(r.strings).decode("utf-8", "replace") for r in _answer(resolver, name, "TXT")]


def _addresses(resolver: Resolver, host: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    return [r.address for kind in ("A", "AAAA") for r in _answer(resolver, host, kind)]


def _tags(record: str) -> dict[str, str]:
    """A tag=value list (DMARC, DKIM): tags lowercased, values stripped; the first of a tag wins."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            tags.setdefault(name.strip().lower(), value.strip())
    return tags


# ---- SPF


def _check_spf(resolver: Resolver, domain: str, addresses: dict[str, list[str]], verdict: Verdict) -> None:
    records = [t for t in _txt(resolver, domain) if re.match(r"v=spf1(\s|$)", t, re.I)]
    if not records:
        verdict.spf_status = "missing"
        return
    verdict.spf_record = records[0][:2000]
    if len(records) > 1:
        verdict.spf_status, verdict.spf_error = "invalid", "more than one SPF record (RFC 7208 3.2)"
        return
    verdict.spf_all = _spf_ending(records[0])
    result, explanation, lookups = _evaluate(domain, records[0], PROBE_ADDRESS)
    verdict.spf_lookups = lookups
    if lookups > MAX_SPF_LOOKUPS:
        verdict.spf_status = "invalid"
        verdict.spf_error = f"{lookups} DNS lookups, at most {MAX_SPF_LOOKUPS} (RFC 7208 4.6.4)"
        return
    if result == "permerror":
        verdict.spf_status, verdict.spf_error = (
            "invalid",
            explanation.removeprefix("SPF Permanent Error: ")[:300],
        )
        return
    verdict.spf_status = "valid"
    if verdict.spf_all not in ("-all", "~all", "redirect"):
        verdict.notes.append(f"the SPF record of {domain} does not end with -all or ~all")
    for host, ips in addresses.items():
        # A few of a host's addresses tell: each evaluation repeats the record's lookups.
        results = {ip: _evaluate(domain, records[0], ip)[0] for ip in ips[:HOST_ADDRESSES]}
        verdict.spf_hosts[host] = (
            "pass"
            if results and all(r == "pass" for r in results.values())
            else (", ".join(f"{ip}: {r}" for ip, r in results.items()) or "the host has no address")
        )
        if verdict.spf_hosts[host] != "pass":
            verdict.notes.append(f"the SPF record of {domain} does not allow the mailbox's SMTP host {host}")


def _spf_ending(record: str) -> str | None:
    terms = record.split()[1:]
    for term in reversed(terms):
        found = ALL_TERM.match(term)
        if found:
            return (found.group(1) or "+") + "all"
        if term.lower().startswith("redirect="):
            return "redirect"
    return None


def _evaluate(domain: str, record: str, address: str) -> tuple[str, str, int]:
    """pyspf's check_host of `address` against the record: (result, explanation, DNS lookups)."""
    spf = _pyspf()
    query = spf.query(i=address, s=f"postmaster@{domain}", h=domain, timeout=DNS_LIFETIME, querytime=0)
    result, _code, explanation = query.check(spf=record)
    if result == "temperror":
        raise DnsUnavailable(f"SPF of {domain}: {explanation}")
    return result, explanation, query.lookups


def spf_suggestion(addresses: dict[str, list[str]], hosts: list[str]) -> str:
    """An SPF record that allows the mailboxes' SMTP hosts."""
    mechanisms: list[str] = []
    for host in hosts:
        parent = ".".join(host.lower().split(".")[-2:])
        include = PROVIDER_INCLUDES.get(parent)
        if include:
            mechanisms.append(include)
            continue
        for ip in addresses.get(host, []):
            mechanisms.append(f"ip6:{ip}" if ":" in ip else f"ip4:{ip}")
    mechanisms = list(dict.fromkeys(mechanisms)) or ["mx"]
    return "v=spf1 " + " ".join(mechanisms) + " ~all"


_spf_module = None


def _pyspf() -> Any:  # pyspf has no type information
    """pyspf, looking names up through this module's resolver (DNS_NAMESERVERS). pyspf calls one
    module-level function for every lookup; it is replaced once, for the whole process, which
    uses the one resolver setting anyway."""
    global _spf_module
    if _spf_module is None:
        import spf

        spf.DNSLookup = _spf_lookup
        _spf_module = spf
    return _spf_module


def _spf_lookup(
    name: str, qtype: str, strict: bool = True, timeout: float = DNS_LIFETIME
) -> list[tuple[tuple[str, str], Any]]:
    """pyspf's lookup interface: ((name, type), value) pairs, TempError on a DNS failure."""
    spf = _pyspf()
    try:
        answers = _answer(_resolver(), name, qtype)
    except DnsUnavailable as exc:
        raise spf.TempError(str(exc)) from None
    found: list[tuple[tuple[str, str], Any]] = []
    for r in answers:
        if qtype in ("A", "AAAA"):
            found.append(((name, qtype), r.address))
        elif qtype == "MX":
            found.append(((name, qtype), (r.preference, r.exchange)))
        elif qtype == "PTR":
            found.append(((name, qtype), r.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            found.append(((name, qtype), r.strings))
    return found


# ---- DMARC


def _check_dmarc(resolver: Resolver, domain: str, verdict: Verdict) -> None:
    """The record at _dmarc.<domain>, else at the organizational domain's (RFC 7489 6.6.3),
    whose sp= then applies."""
    for where in dict.fromkeys([domain, _organizational(domain)]):
        records = [t for t in _txt(resolver, f"_dmarc.{where}") if DMARC_START.match(t)]
        if records:
            break
    else:
        return
    verdict.dmarc_domain, verdict.dmarc_record = where, records[0][:2000]
    if len(records) > 1:
        verdict.notes.append(f"_dmarc.{where} has more than one DMARC record: receivers use none")
        verdict.dmarc_record = None
        return
    tags = _tags(records[0])
    policy = tags.get("p", "").lower()
    subdomain = tags.get("sp", "").lower() or None
    verdict.dmarc_policy = policy if policy in ("none", "quarantine", "reject") else None
    verdict.dmarc_subdomain_policy = subdomain
    verdict.dmarc_rua = tags.get("rua") or None
    verdict.dmarc_adkim = tags.get("adkim", "r").lower()
    verdict.dmarc_aspf = tags.get("aspf", "r").lower()
    applied = subdomain if where != domain and subdomain else verdict.dmarc_policy
    if applied == "none":
        verdict.notes.append(
            f"the DMARC policy for {domain} is p=none: allowed, but receivers act on nothing; "
            "move to p=quarantine once the reports are clean"
        )
    if not verdict.dmarc_rua:
        verdict.notes.append(f"the DMARC record at _dmarc.{where} has no rua=: no aggregate reports arrive")


def _organizational(domain: str) -> str:
    from tld import get_fld

    return get_fld(domain, fix_protocol=True, fail_silently=True) or domain


# ---- DKIM and MX


def _check_dkim(resolver: Resolver, domain: str, selectors: list[str], verdict: Verdict) -> None:
    for selector in selectors:
        keys = [_tags(t) for t in _txt(resolver, f"{selector}._domainkey.{domain}")]
        found = any(k.get("p") for k in keys)  # an empty p= is a revoked key
        verdict.dkim[selector] = "found" if found else "not found"
    if not selectors:
        verdict.dkim_status = "not checked"
    elif "found" in verdict.dkim.values():
        verdict.dkim_status = "found"
    else:
        verdict.dkim_status = "not found"
        verdict.notes.append(
            f"no DKIM key of {domain} at the selectors checked ({', '.join(selectors)}): "
            "name the mailbox's selector in mailboxes.dkim_selectors"
        )


def _check_mx(resolver: Resolver, domain: str, verdict: Verdict) -> None:
    hosts = sorted(r.exchange.to_text(omit_final_dot=True) for r in _answer(resolver, domain, "MX"))
    verdict.mx_hosts = [h for h in hosts if h]
    if not verdict.mx_hosts:
        verdict.notes.append(f"{domain} has no MX record: replies to it cannot arrive")
