"""Drafts per second for 1,000 campaign contacts: the template drafter, and an LLM server that
answers after 200 ms, where the drain's concurrency bound sets the ideal."""

from __future__ import annotations

import json
import os
import time

import psycopg

from bench.common import fresh_database, progress

CONTACTS = int(os.environ.get("BENCH_DRAFT_CONTACTS", "1000"))
BOUND = 8
LATENCY = 0.2


def populate(conn) -> None:
    org = conn.execute("INSERT INTO organizations (org_name) VALUES ('Drafts') RETURNING id").fetchone()[0]
    campaign = conn.execute(
        "INSERT INTO campaigns (organization_id, campaign_name, word_limit, default_language) VALUES (%s, 'Mats', 120, 'en')"
        " RETURNING id",
        (org,),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO contacts (organization_id, email, name) SELECT %s, 'p' || g || '@studio' || g || '.com',"
        " 'Pat ' || g FROM generate_series(1, %s) g",
        (org, CONTACTS),
    )
    conn.execute(
        "INSERT INTO campaign_contacts (campaign_id, contact_id, next_attempt_at) SELECT %s, id,"
        " now() - interval '1 hour' FROM contacts WHERE organization_id = %s",
        (campaign, org),
    )


def drain_all() -> float:
    from shared.core.triggers import run_drain
    from shared.core.work import DRAFT
    from shared.drafting import drafter

    started = time.perf_counter()
    while run_drain(DRAFT, drafter.draft, 500)["processed"]:
        pass
    return time.perf_counter() - started


def run() -> dict:
    from shared.core.config import get_settings
    from shared.drafting import llm
    from tests.helpers import http_server, json_answer

    result = {"contacts": CONTACTS, "bound": BOUND, "latency_ms": LATENCY * 1000}
    os.environ.update(
        {"DRAIN_GRACE_SECONDS": "0", "DRAIN_CONCURRENCY": str(BOUND), "DB_POOL_SIZE": str(BOUND + 2)}
    )
    with fresh_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            populate(conn)
        os.environ.pop("LLM_BASE_URL", None)
        get_settings.cache_clear()
        progress(f"drafting: template drafter, {CONTACTS} contacts")
        result["template_s"] = drain_all()

    body = json.dumps(
        {
            "emails": [
                {"subject": "Mats for your studio", "body": "Hi Pat, a short note about mats."},
                {"subject": "Re", "body": "Following up."},
                {"subject": "Re", "body": "Last one."},
            ]
        }
    )

    def answer(handler):
        handler.rfile.read(int(handler.headers["Content-Length"]))
        time.sleep(LATENCY)
        return json_answer(
            200,
            {
                "choices": [{"message": {"role": "assistant", "content": body}}],
                "usage": {"prompt_tokens": 400, "completion_tokens": 120},
            },
        )

    with http_server(answer) as base, fresh_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            populate(conn)
        os.environ.update({"LLM_BASE_URL": base, "LLM_MODEL": "bench"})
        get_settings.cache_clear()
        llm._client = None
        progress(f"drafting: LLM answering after {LATENCY * 1000:.0f} ms, bound {BOUND}, {CONTACTS} contacts")
        result["llm_s"] = drain_all()
        with psycopg.connect(url) as conn:
            result["drafted"] = conn.execute(
                "SELECT count(*) FROM campaign_contacts WHERE status = 'drafted'"
            ).fetchone()[0]
        os.environ.pop("LLM_BASE_URL", None)
        get_settings.cache_clear()
    return result


def table(r: dict) -> str:
    ideal = r["bound"] / (r["latency_ms"] / 1000)
    llm_rate = r["contacts"] / r["llm_s"]
    return "\n".join(
        [
            "| drafter | contacts | time | drafts/s | ideal | ratio to ideal |",
            "|---|---:|---:|---:|---:|---:|",
            f"| template | {r['contacts']:,} | {r['template_s']:.1f} s | {r['contacts'] / r['template_s']:,.0f} | - | - |",
            f"| LLM answering after {r['latency_ms']:.0f} ms, drain bound {r['bound']} | {r['contacts']:,} | "
            f"{r['llm_s']:.1f} s | {llm_rate:,.1f} | {ideal:,.0f} ({r['bound']} / {r['latency_ms'] / 1000:.1f} s) | "
            f"**{llm_rate / ideal:.2f}** |",
        ]
    )
