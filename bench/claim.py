"""The claim statement and the stats view at 1,000,000 outreach_flows and 100,000 contacts,
500 of the flows due; against the same claim without the partial index of due rows (dropped in a
transaction that is rolled back), in the same run."""

from __future__ import annotations

import os
import time

import psycopg

from bench.common import fresh_database, progress
from local.run import STATS
from shared.core.queries import sql
from tests.acceptance.bulk import long_sequences

CONTACTS = int(os.environ.get("BENCH_CLAIM_CONTACTS", "100000"))
STEPS = 10
DUE = 500


PARAMS = {"limit": 200, "scan": 800, "lease": 300, "spacing": 0, "cap_retry": 900}


def timed_claim(conn, without_due_index: bool) -> tuple[float, int]:
    best, claimed = float("inf"), 0
    for _ in range(5):
        with conn.transaction(force_rollback=True):
            if without_due_index:
                conn.execute("DROP INDEX outreach_flows_due_idx")
            started = time.perf_counter()
            row = conn.execute(sql("claim-due-flows"), PARAMS).fetchone()
            best = min(best, time.perf_counter() - started)
            claimed = len(row[0])
    return best * 1000, claimed


def run() -> dict:
    with fresh_database() as url, psycopg.connect(url, autocommit=True) as conn:
        progress(f"claim: inserting {CONTACTS:,} contacts and {CONTACTS * STEPS:,} outreach_flows")
        started = time.perf_counter()
        campaign = long_sequences(conn, CONTACTS, STEPS, DUE)
        load_s = time.perf_counter() - started
        flows = conn.execute("SELECT count(*) FROM outreach_flows").fetchone()[0]
        progress("claim: timing the claim and the stats view")
        claim_ms, claimed = timed_claim(conn, without_due_index=False)
        scan_ms, _ = timed_claim(conn, without_due_index=True)
        with conn.transaction(force_rollback=True):
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql("claim-due-flows"), PARAMS))
        conn.execute("SELECT private.refresh_campaign_stats()")  # as the scheduler does after a load
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            conn.execute(STATS["campaign-stats"], {"campaign_id": campaign}).fetchone()
            best = min(best, time.perf_counter() - started)
    locked = [line.strip() for line in plan.splitlines() if "outreach_flows_due_idx" in line]
    return {
        "flows": flows,
        "contacts": CONTACTS,
        "load_s": load_s,
        "claim_ms": claim_ms,
        "claimed": claimed,
        "scan_ms": scan_ms,
        "stats_ms": best * 1000,
        "plan_line": locked[0] if locked else "(partial index not used)",
        "seq_scan_on_flows": "Seq Scan on outreach_flows" in plan,
    }


def table(r: dict) -> str:
    return "\n".join(
        [
            "| measure | value |",
            "|---|---:|",
            f"| outreach_flows / contacts | {r['flows']:,} / {r['contacts']:,} (500 due) |",
            f"| claim of 200 due rows (best of 5, rolled back) | **{r['claim_ms']:.1f} ms** ({r['claimed']} claimed) |",
            f"| same claim without the partial index of due rows | {r['scan_ms']:,.1f} ms ({r['scan_ms'] / r['claim_ms']:,.0f}x slower) |",
            f"| campaign_stats for the 1,000,000-row campaign | {r['stats_ms']:,.0f} ms |",
            f"| EXPLAIN | `{r['plan_line']}`; sequential scan of outreach_flows: {'yes' if r['seq_scan_on_flows'] else 'no'} |",
        ]
    )
