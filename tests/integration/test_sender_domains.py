"""The sending domains' SPF, DMARC, DKIM and MX checks against a real DNS server on loopback
(dnslib), and the gate send_due applies with them (SENDER_DOMAIN_CHECK), with real SMTP
servers (aiosmtpd) behind the mailboxes."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest

from shared.mailboxes import domains
from shared.sending import sender
from tests import factories as f
from tests.dnsserver import LocalDns
from tests.helpers import as_role
from tests.integration.test_mailboxes import PASSWORD, add_mailbox, mailbox_url
from tests.integration.test_send_due import ALWAYS_OPEN, status
from tests.mailserver import Logins, MailServer

_FIRST = " ".join(f"include:i{n}.lookups.com" for n in range(1, 7))
_REST = " ".join(f"include:i{n}.lookups.com" for n in range(7, 12))
ZONE = (
    f"""
good.com. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
good.com. 300 IN MX 10 mx.good.com.
_dmarc.good.com. 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@good.com; adkim=s"
google._domainkey.good.com. 300 IN TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"
mail.good.com. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
nodmarc.com. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
nodmarc.com. 300 IN MX 10 mx.nodmarc.com.
lookups.com. 300 IN TXT "v=spf1 {_FIRST} " "{_REST} -all"
_dmarc.lookups.com. 300 IN TXT "v=DMARC1; p=none"
slow.com. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
broken.com. 300 IN TXT "v=spf1 ip4:127.0.0.1 mx:: moo -all"
_dmarc.broken.com. 300 IN TXT "v=DMARC1; p=reject"
twice.com. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
twice.com. 300 IN TXT "v=spf1 ip4:127.0.0.2 -all"
_dmarc.twice.com. 300 IN TXT "v=DMARC1; p=sometimes"
_dmarc.slow.com. 300 IN TXT "v=DMARC1; p=reject"
"""
    # Each include costs one lookup: 11 of them, one more than RFC 7208 allows.
    + "\n".join(f'i{n}.lookups.com. 300 IN TXT "v=spf1 ip4:198.51.100.{n} -all"' for n in range(1, 12))
)
SELECTORS = list(domains.DEFAULT_SELECTORS)


@pytest.fixture
def dns(monkeypatch):
    monkeypatch.setattr(domains, "DNS_LIFETIME", 0.5)  # the silent domain's lookups time out sooner
    with LocalDns(ZONE, silent={"slow.com"}) as server:
        yield server


@pytest.fixture
def gate(env, dns, database_url, empty_queue):
    """Two real SMTP servers, the local DNS server, and the gate on (enforce)."""
    with contextlib.ExitStack() as stack:
        started = [
            stack.enter_context(MailServer(authenticator=Logins("mailer", PASSWORD), auth_require_tls=False))
            for _ in range(2)
        ]
        env(
            MAIL_TRANSPORT="file",
            ALLOW_PRIVATE_NETWORK="true",
            SEND_DOMAIN_SPACING_SECONDS=0,
            SEND_RATE_PER_SECOND=0,
            DNS_NAMESERVERS=dns.nameservers,
            SENDER_DOMAIN_CHECK="enforce",
        )
        yield started


def only_these_due(conn, org):
    """Other tests' organizations keep their mailboxes: their checks are put off, so a run's
    REFRESH_LIMIT goes to this organization's domains."""
    conn.execute(
        "UPDATE sender_domain_checks SET next_check_at = now() + interval '1 day' WHERE organization_id <> %s",
        (org,),
    )


def check_row(conn, org, domain) -> dict:
    cur = conn.execute(
        "SELECT * FROM sender_domain_checks WHERE organization_id = %s AND domain = %s", (org, domain)
    )
    names = [c.name for c in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def first_message(conn, org, campaign):
    contact = f.contact(conn, org)
    f.link(conn, campaign, contact, status="drafted")
    return f.flow(conn, campaign, contact)


# --- the verdicts, one domain at a time ---


def test_a_good_domain_passes_every_check(env, dns):
    env(DNS_NAMESERVERS=dns.nameservers)
    verdict = domains.check("good.com", ["127.0.0.1"], SELECTORS)
    assert verdict.problem is None
    assert (verdict.spf_status, verdict.spf_all, verdict.spf_hosts) == (
        "valid",
        "-all",
        {"127.0.0.1": "pass"},
    )
    assert (verdict.dmarc_policy, verdict.dmarc_rua, verdict.dmarc_adkim, verdict.dmarc_aspf) == (
        "quarantine",
        "mailto:dmarc@good.com",
        "s",
        "r",
    )
    assert verdict.dkim_status == "found" and verdict.dkim["google"] == "found"
    assert verdict.dkim["selector1"] == "not found"
    assert verdict.mx_hosts == ["mx.good.com"]
    assert verdict.notes == []


def test_an_smtp_host_the_spf_record_does_not_name_is_reported(env, dns):
    env(DNS_NAMESERVERS=dns.nameservers)
    verdict = domains.check("good.com", ["203.0.113.9"], [])
    assert verdict.problem is None  # reported, not held: the submission host may relay elsewhere
    assert verdict.spf_hosts == {"203.0.113.9": "203.0.113.9: fail"}
    assert verdict.dkim_status == "not checked"
    assert any("does not allow the mailbox's SMTP host 203.0.113.9" in n for n in verdict.notes)


def test_a_subdomain_falls_back_to_its_organizational_domains_dmarc(env, dns):
    env(DNS_NAMESERVERS=dns.nameservers)
    verdict = domains.check("mail.good.com", ["127.0.0.1"], [])
    assert (verdict.dmarc_domain, verdict.dmarc_policy, verdict.problem) == ("good.com", "quarantine", None)


def test_a_domain_without_dmarc_is_held_with_the_record_to_publish(env, dns):
    env(DNS_NAMESERVERS=dns.nameservers)
    verdict = domains.check("nodmarc.com", ["127.0.0.1"], SELECTORS)
    assert verdict.spf_status == "valid"
    assert verdict.dmarc_record is None
    assert verdict.problem == (
        'nodmarc.com has no DMARC record: publish a TXT record at _dmarc.nodmarc.com: "v=DMARC1; p=none; '
        'rua=mailto:dmarc-reports@nodmarc.com"'
    )
    assert verdict.dkim_status == "not found"


def test_an_spf_record_needing_eleven_lookups_does_not_parse(env, dns):
    env(DNS_NAMESERVERS=dns.nameservers)
    verdict = domains.check("lookups.com", ["127.0.0.1"], SELECTORS)
    assert (verdict.spf_status, verdict.spf_lookups) == ("invalid", 11)
    assert verdict.spf_error == "11 DNS lookups, at most 10 (RFC 7208 4.6.4)"
    assert verdict.problem.startswith("the SPF record of lookups.com does not parse")
    assert '"v=spf1 ip4:127.0.0.1 ~all"' in verdict.problem
    # p=none is allowed, and reported.
    assert verdict.dmarc_policy == "none"
    assert any("p=none" in n for n in verdict.notes)


def test_records_that_do_not_parse_are_held(env, dns):
    env(DNS_NAMESERVERS=dns.nameservers)
    broken = domains.check("broken.com", ["127.0.0.1"], [])
    assert broken.spf_status == "invalid" and broken.spf_error
    assert broken.problem.startswith("the SPF record of broken.com does not parse")
    twice = domains.check("twice.com", ["127.0.0.1"], [])
    assert (twice.spf_status, twice.spf_error) == ("invalid", "more than one SPF record (RFC 7208 3.2)")
    # A DMARC record without a valid p= is no policy a receiver applies.
    assert twice.dmarc_record == "v=DMARC1; p=sometimes" and twice.dmarc_policy is None
    assert "twice.com has no usable DMARC record (no valid p=)" in twice.problem


def test_a_nameserver_that_times_out_is_no_verdict(env, dns):
    env(DNS_NAMESERVERS=dns.nameservers)
    with pytest.raises(domains.DnsUnavailable, match="Timeout"):
        domains.check("slow.com", ["127.0.0.1"], SELECTORS)


# --- the gate in send_due ---


def test_enforce_holds_the_mailbox_without_dmarc_and_sends_from_the_good_one(conn, gate, database_url):
    good_server, bad_server = gate
    org = f.org(conn)
    member, stranger = f.user(conn), f.user(conn)
    f.member(conn, org, member, "member")
    f.member(conn, f.org(conn), stranger, "admin")
    add_mailbox(conn, org, "ana@good.com", mailbox_url(good_server))
    add_mailbox(conn, org, "ben@nodmarc.com", mailbox_url(bad_server))
    good = f.campaign(conn, org, ai_settings={**ALWAYS_OPEN, "mailboxes": ["ana@good.com"]})
    held = f.campaign(conn, org, ai_settings={**ALWAYS_OPEN, "mailboxes": ["ben@nodmarc.com"]})
    only_these_due(conn, org)
    good_flow, held_flow = first_message(conn, org, good), first_message(conn, org, held)

    result = sender.run()

    assert result["sent"] == 1
    assert status(conn, good_flow)[0] == "sent"
    assert len(good_server.recorder.messages) == 1 and bad_server.recorder.messages == []
    state, reason, attempts, _ = status(conn, held_flow)
    assert (state, attempts) == ("scheduled", 0)
    assert "_dmarc.nodmarc.com" in reason and "v=DMARC1; p=none" in reason
    assert reason.startswith("deferred: the mailbox ben@nodmarc.com is held: nodmarc.com has no DMARC record")

    # Members read the verdicts (and what holds the campaign); another organization's admin does not.
    with as_role(database_url, "authenticated", member) as db:
        rows = db.execute(
            "SELECT domain, status, problem, mailboxes, spf_status, dmarc_policy, dkim_status"
            " FROM sender_domain_status ORDER BY domain"
        ).fetchall()
        problems = db.execute(
            "SELECT campaign_id, sender_domain_problem FROM campaign_sender_domain_problems"
        ).fetchall()
    assert [(r[0], r[1], r[3], r[4], r[5], r[6]) for r in rows] == [
        ("good.com", "ok", ["ana@good.com"], "valid", "quarantine", "found"),
        ("nodmarc.com", "held", ["ben@nodmarc.com"], "valid", None, "not found"),
    ]
    assert "_dmarc.nodmarc.com" in rows[1][2]
    assert [p[0] for p in problems] == [held] and "_dmarc.nodmarc.com" in problems[0][1]
    with as_role(database_url, "authenticated", stranger) as db:
        assert db.execute("SELECT count(*) FROM sender_domain_status").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM sender_domain_checks").fetchone()[0] == 0


def test_enforce_holds_the_follow_ups_of_a_sequence_already_begun(conn, gate):
    _, bad_server = gate
    org = f.org(conn)
    box = add_mailbox(conn, org, "ben@nodmarc.com", mailbox_url(bad_server))
    campaign = f.campaign(conn, org, ai_settings=ALWAYS_OPEN)
    only_these_due(conn, org)
    contact = f.contact(conn, org)
    f.flow(
        conn, campaign, contact, status="sent", sent_at=datetime.now(UTC), mailbox_id=box, message_id="<a@b>"
    )
    follow_up = f.flow(conn, campaign, contact, step=1)

    assert sender.run()["sent"] == 0
    state, reason, *_ = status(conn, follow_up)
    assert state == "scheduled"
    assert reason.startswith("deferred: the sequence's mailbox ben@nodmarc.com is held:")
    assert "_dmarc.nodmarc.com" in reason
    assert bad_server.recorder.messages == []


def test_warn_sends_and_still_records_the_reason(conn, gate, env):
    _, bad_server = gate
    env(SENDER_DOMAIN_CHECK="warn")
    org = f.org(conn)
    add_mailbox(conn, org, "ben@nodmarc.com", mailbox_url(bad_server))
    campaign = f.campaign(conn, org, ai_settings=ALWAYS_OPEN)
    only_these_due(conn, org)
    flow = first_message(conn, org, campaign)

    assert sender.run()["sent"] == 1
    assert status(conn, flow)[0] == "sent" and len(bad_server.recorder.messages) == 1
    assert "_dmarc.nodmarc.com" in check_row(conn, org, "nodmarc.com")["problem"]


def test_off_checks_nothing(conn, gate, env, dns):
    _, bad_server = gate
    env(SENDER_DOMAIN_CHECK="off")
    org = f.org(conn)
    add_mailbox(conn, org, "ben@nodmarc.com", mailbox_url(bad_server))
    campaign = f.campaign(conn, org, ai_settings=ALWAYS_OPEN)
    flow = first_message(conn, org, campaign)
    asked = len(dns.resolver.asked)
    assert sender.run()["sent"] == 1 and status(conn, flow)[0] == "sent"
    assert len(dns.resolver.asked) == asked


def test_a_timeout_keeps_the_last_verdict_and_retries(conn, gate, dns):
    good_server, _ = gate
    org = f.org(conn)
    add_mailbox(conn, org, "ana@good.com", mailbox_url(good_server))
    campaign = f.campaign(conn, org, ai_settings=ALWAYS_OPEN)
    only_these_due(conn, org)
    assert domains.refresh_due() == 1
    before = check_row(conn, org, "good.com")
    assert before["problem"] is None and before["checked_at"] is not None and before["dkim_status"] == "found"

    # A day later the domain's nameserver stops answering.
    conn.execute("UPDATE sender_domain_checks SET next_check_at = now() WHERE organization_id = %s", (org,))
    dns.resolver.silent.add("good.com")
    assert domains.refresh_due() == 0
    after = check_row(conn, org, "good.com")
    assert after["checked_at"] == before["checked_at"]
    assert (after["problem"], after["spf_status"], after["dmarc_policy"]) == (None, "valid", "quarantine")
    assert "Timeout" in after["dns_error"]
    assert after["next_check_at"] > datetime.now(UTC)  # tried again after RETRY_SECONDS

    # The verdict it kept lets the mailbox send (the claim reads it, no DNS under its lock).
    flow = first_message(conn, org, campaign)
    assert sender.run()["sent"] == 1 and status(conn, flow)[0] == "sent"

    # The answer comes back: the next check is a verdict again.
    dns.resolver.silent.discard("good.com")
    conn.execute("UPDATE sender_domain_checks SET next_check_at = now() WHERE organization_id = %s", (org,))
    assert domains.refresh_due() == 1
    assert check_row(conn, org, "good.com")["dns_error"] is None


def test_a_domain_never_checked_waits_for_its_first_verdict(conn, gate):
    good_server, _ = gate
    org = f.org(conn)
    add_mailbox(conn, org, "cy@slow.com", mailbox_url(good_server))
    campaign = f.campaign(conn, org, ai_settings=ALWAYS_OPEN)
    only_these_due(conn, org)
    flow = first_message(conn, org, campaign)

    assert sender.run()["sent"] == 0
    state, reason, *_ = status(conn, flow)
    assert state == "scheduled"
    assert "its domain slow.com has no SPF and DMARC check yet" in reason and "Timeout" in reason
    assert good_server.recorder.messages == []


def test_members_cannot_write_checks_and_admins_name_dkim_selectors(conn, database_url):
    org = f.org(conn)
    admin, member = f.user(conn), f.user(conn)
    f.member(conn, org, admin, "admin")
    f.member(conn, org, member, "member")
    box = add_mailbox(conn, org, "ana@good.com", "smtp://mailer:x@127.0.0.1:2525")
    assert conn.execute(  # the mailbox's domain got its row as the mailbox was added
        "SELECT domain, checked_at FROM sender_domain_checks WHERE organization_id = %s", (org,)
    ).fetchall() == [("good.com", None)]
    with as_role(database_url, "authenticated", member) as db:
        with pytest.raises(Exception, match="permission denied"):
            db.execute("UPDATE sender_domain_checks SET problem = NULL")
    with as_role(database_url, "authenticated", admin) as db:
        db.execute("UPDATE mailboxes SET dkim_selectors = ARRAY['s2026', 'mail.k1'] WHERE id = %s", (box,))
        assert db.execute("SELECT dkim_selectors FROM mailboxes WHERE id = %s", (box,)).fetchone()[0] == [
            "s2026",
            "mail.k1",
        ]
        with pytest.raises(Exception, match="check"):
            db.execute("UPDATE mailboxes SET dkim_selectors = ARRAY['bad selector'] WHERE id = %s", (box,))


def test_a_domain_no_longer_sent_from_is_no_longer_checked(conn, gate):
    good_server, _ = gate
    org = f.org(conn)
    box = add_mailbox(conn, org, "ana@good.com", mailbox_url(good_server))
    only_these_due(conn, org)
    assert domains.refresh_due() == 1
    conn.execute("INSERT INTO sender_domains (organization_id, domain) VALUES (%s, 'nodmarc.com')", (org,))
    campaign = f.campaign(conn, org, ai_settings={**ALWAYS_OPEN, "sender_email": "hi@nodmarc.com"})
    conn.execute("DELETE FROM mailboxes WHERE id = %s", (box,))
    assert domains.refresh_due() == 1  # the campaign's sender_email domain, due since it was written
    assert "_dmarc.nodmarc.com" in check_row(conn, org, "nodmarc.com")["problem"]

    # A day later neither is used: the mailbox is gone, the campaign completed.
    conn.execute("UPDATE campaigns SET status = 'completed' WHERE id = %s", (campaign,))
    conn.execute("UPDATE sender_domain_checks SET next_check_at = now() WHERE organization_id = %s", (org,))
    assert domains.refresh_due() == 0
    left = conn.execute("SELECT count(*) FROM sender_domain_checks WHERE organization_id = %s", (org,))
    assert left.fetchone()[0] == 0
