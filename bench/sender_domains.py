"""What the sending-domain checks add to send_due: the refresh's statements when nothing is due
(every run pays them), one run checking REFRESH_LIMIT domains against a DNS server on loopback,
and the gate's read inside the claim, with ORGS organizations of 2 mailboxes and 2 campaigns
sending from their own domain each."""

from __future__ import annotations

import os
import statistics
import time

import psycopg

from bench.common import fresh_database, progress
from shared.core import db
from shared.core.config import get_settings
from shared.mailboxes import domains
from tests.dnsserver import LocalDns

ORGS = int(os.environ.get("BENCH_DOMAIN_ORGS", "1000"))


def zone() -> str:
    lines = []
    for i in range(ORGS):
        d = f"org{i}.com"
        lines += [
            f'{d}. 300 IN TXT "v=spf1 ip4:127.0.0.1 include:_spf.org{i}.com -all"',
            f'_spf.{d}. 300 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"',
            f'_dmarc.{d}. 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@{d}"',
            f'google._domainkey.{d}. 300 IN TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSq"',
            f"{d}. 300 IN MX 10 mx.{d}.",
        ]
    return "\n".join(lines)


def populate(conn) -> None:
    conn.execute(
        "INSERT INTO organizations (id, org_name) SELECT gen_random_uuid(), 'org' || i FROM generate_series(0, %s) i",
        (ORGS - 1,),
    )
    conn.execute(
        "INSERT INTO mailboxes (organization_id, email, smtp_endpoint, smtp_secret_id, daily_cap)"
        " SELECT o.id, 'box' || n || '@' || o.org_name || '.com', 'smtp://u@127.0.0.1:2525', gen_random_uuid(), 50"
        " FROM organizations o, generate_series(1, 2) n"
    )
    conn.execute(
        "INSERT INTO sender_domains (organization_id, domain) SELECT id, org_name || '.com' FROM organizations"
    )
    conn.execute(
        "INSERT INTO campaigns (organization_id, campaign_name, status, ai_settings)"
        " SELECT o.id, 'c' || n, 'active', jsonb_build_object('sender_email', 'hi@' || o.org_name || '.com')"
        " FROM organizations o, generate_series(1, 2) n"
    )


def run() -> dict:
    with fresh_database() as url, LocalDns(zone()) as server, psycopg.connect(url, autocommit=True) as conn:
        os.environ.update(SENDER_DOMAIN_CHECK="enforce", DNS_NAMESERVERS=server.nameservers)
        get_settings.cache_clear()
        progress(f"sender_domains: {ORGS:,} organizations, {2 * ORGS:,} mailboxes and campaigns")
        populate(conn)
        progress("sender_domains: first runs, checking every domain")
        runs = []
        while True:
            started = time.perf_counter()
            checked = domains.refresh_due()
            if not checked:
                break
            runs.append((time.perf_counter() - started, checked))
        per_domain_ms = 1000 * sum(s for s, _ in runs) / sum(n for _, n in runs)
        progress("sender_domains: runs with nothing due")
        idle = []
        for _ in range(9):
            started = time.perf_counter()
            domains.refresh_due()
            idle.append(time.perf_counter() - started)
        boxes: dict = {}
        for org, email in conn.execute("SELECT organization_id, email FROM mailboxes").fetchall():
            boxes.setdefault(org, []).append(Box(email))
        few = dict(list(boxes.items())[:20])  # a claim of 200 rows across 20 organizations
        gate, gate_all = [], []
        for _ in range(5):
            with db.transaction() as tx:
                started = time.perf_counter()
                domains.gate(tx, few)
                gate.append(time.perf_counter() - started)
                started = time.perf_counter()
                domains.gate(tx, boxes)
                gate_all.append(time.perf_counter() - started)
        verdicts = conn.execute("SELECT count(*), count(problem) FROM sender_domain_checks").fetchone()
    os.environ["SENDER_DOMAIN_CHECK"] = "off"
    get_settings.cache_clear()
    return {
        "orgs": ORGS,
        "domains": verdicts[0],
        "held": verdicts[1],
        "first_run_s": runs[0][0],
        "per_domain_ms": per_domain_ms,
        "runs": len(runs),
        "idle_ms": statistics.median(idle) * 1000,
        "gate_ms": statistics.median(gate) * 1000,
        "gate_all_ms": statistics.median(gate_all) * 1000,
    }


class Box:
    def __init__(self, email: str):
        self.email, self.held = email, None


def table(r: dict) -> str:
    return "\n".join(
        [
            "| measure | value |",
            "|---|---:|",
            f"| organizations / sending domains | {r['orgs']:,} / {r['domains']:,} ({r['held']} held) |",
            f"| one send_due's refresh, 20 domains due (SPF with an include, DMARC, 5 DKIM selectors, MX; DNS on loopback) | {r['first_run_s'] * 1000:.0f} ms |",
            f"| per domain checked | {r['per_domain_ms']:.1f} ms |",
            f"| runs until every domain had a verdict | {r['runs']} |",
            f"| the refresh when nothing is due (paid by every send_due run; median of 9) | **{r['idle_ms']:.1f} ms** |",
            f"| the gate's read in the claim, 20 organizations (median of 5) | {r['gate_ms']:.1f} ms |",
            f"| the same for all {r['orgs']:,} organizations at once | {r['gate_all_ms']:.1f} ms |",
        ]
    )
