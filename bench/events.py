"""Signed webhooks: the time from a reply's commit to its delivery at the endpoint, for 10,000
replies through three endpoints of three organizations (one fast, one slow, one always
failing), delivered by two deliver_events processes fired by the database's webhook (here its
pg_notify, as make run gets it) as the replies are written, 100 per transaction, as sync_mailboxes
writes them."""

from __future__ import annotations

import json
import os
import resource
import select
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict

import psycopg

from bench.common import ROOT, child_env, fresh_database, progress
from tests.helpers import http_server

REPLIES = int(os.environ.get("BENCH_EVENTS_REPLIES", "10000"))
BATCH = 100
PACED_REPLIES = int(os.environ.get("BENCH_EVENTS_PACED_REPLIES", "2000"))
SLOW_SECONDS = 0.1
DELIVERERS = 2
# Of every four batches: two to the fast endpoint's organization, one to the slow's, one to the failing's.
ROTATION = ("fast", "fast", "slow", "failing")


def receiver(name: str) -> None:
    """An endpoint in a process of its own (the benchmark's process would make the three share
    one interpreter lock): prints its port, then, when its input closes, each arrival (wall
    clock) by inbound message, and its number of requests."""
    arrivals: dict[str, float] = {}
    attempts = 0
    lock = threading.Lock()

    def respond(handler):
        nonlocal attempts
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        arrived = time.time()
        if name == "slow":
            time.sleep(SLOW_SECONDS)
        with lock:
            attempts += 1
            if name != "failing":
                arrivals.setdefault(json.loads(body)["data"]["inbound_message_id"], arrived)
        return (500 if name == "failing" else 200), {}, b""

    with http_server(respond) as base:
        print(base, flush=True)
        sys.stdin.read()
    with lock:
        print(json.dumps({"arrivals": arrivals, "attempts": attempts}), flush=True)


def deliverer() -> None:
    """A deliver_events instance: runs when the database's webhook fires, and every second."""
    from shared.events import deliver

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("LISTEN outreach_webhooks")
        deliver.run()
        print("ready", flush=True)
        while True:
            while deliver.run()["claimed"]:
                pass
            if select.select([conn.fileno()], [], [], 1.0)[0]:
                list(conn.notifies(timeout=0, stop_after=1000))


def figures(heard: dict, committed: dict[str, float]) -> dict:
    latencies = [at - committed[message_id] for message_id, at in heard["arrivals"].items()]
    return {
        "attempts": heard["attempts"],
        "delivered": len(latencies),
        "p50": percentile(latencies, 50) if latencies else None,
        "p99": percentile(latencies, 99) if latencies else None,
        "max": max(latencies) if latencies else None,
    }


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def run() -> dict:
    """The three endpoints together, then the fast one alone with the same replies at the same
    pace: what the slow and failing neighbours cost it."""
    together = scenario(ROTATION)
    alone = scenario(tuple(name if name == "fast" else None for name in ROTATION))
    # Below the deliverers' capacity: what a commit waits when there is no backlog.
    paced = scenario(ROTATION, replies=PACED_REPLIES, batch=10, pause=0.1)
    return {**together, "alone": alone["endpoints"]["fast"], "paced": paced, "triggers": trigger_cost()}


# The outbox's triggers that sending's per-message statements meet: outreach_flows' status.
SEND_PATH_TRIGGERS = ("outreach_flows_draft_event", "outreach_flows_draft_event_update")


def trigger_cost(rows: int = 10000, rounds: int = 5) -> dict:
    """Microseconds per row of send_due's status changes (scheduled -> sending -> sent) with the
    outbox's triggers and without them, in an organization that has a webhook endpoint."""
    with fresh_database() as url, psycopg.connect(url, autocommit=True) as conn:
        org = conn.execute("INSERT INTO organizations (org_name) VALUES ('bench') RETURNING id").fetchone()[0]
        campaign = conn.execute(
            "INSERT INTO campaigns (organization_id, campaign_name) VALUES (%s, 'Bench') RETURNING id", (org,)
        ).fetchone()[0]
        conn.execute(
            "SELECT * FROM public.add_webhook(%s, 'https://hooks.bench.example/', %s)",
            (org, ["draft.awaiting_review"]),
        )
        conn.execute(
            "INSERT INTO contacts (organization_id, email) SELECT %s, 'lead' || n || '@bench.example' FROM generate_series(1, %s) n",
            (org, rows),
        )
        conn.execute(
            "INSERT INTO outreach_flows (campaign_id, contact_id, sequence_order, status, subject, body, scheduled_send_time)"
            " SELECT %s, id, 0, 'scheduled', 'Hello', 'Body', now() FROM contacts WHERE organization_id = %s",
            (campaign, org),
        )
        timings: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(rounds):
            for label in ("with", "without"):
                action = "ENABLE" if label == "with" else "DISABLE"
                for name in SEND_PATH_TRIGGERS:
                    conn.execute(f"ALTER TABLE outreach_flows {action} TRIGGER {name}")
                started = time.perf_counter()
                conn.execute(
                    "UPDATE outreach_flows SET status = 'sending' WHERE campaign_id = %s", (campaign,)
                )
                conn.execute(
                    "UPDATE outreach_flows SET status = 'sent', sent_at = now() WHERE campaign_id = %s",
                    (campaign,),
                )
                conn.execute(
                    "UPDATE outreach_flows SET status = 'scheduled', sent_at = NULL WHERE campaign_id = %s",
                    (campaign,),
                )
                timings[label].append((time.perf_counter() - started) / (3 * rows) * 1e6)
        outbox = conn.execute("SELECT count(*) FROM webhook_deliveries").fetchone()[0]
    return {
        "rows": rows,
        "with": statistics.median(timings["with"]),
        "without": statistics.median(timings["without"]),
        "outbox": outbox,
    }


def scenario(
    rotation: tuple[str | None, ...], replies: int = REPLIES, batch: int = BATCH, pause: float = 0.01
) -> dict:
    committed: dict[str, float] = {}
    receivers = {
        name: subprocess.Popen(
            [sys.executable, "-m", "bench.events", "receive", name],
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("fast", "slow", "failing")
    }
    bases = {name: proc.stdout.readline().strip() for name, proc in receivers.items()}
    with fresh_database() as url, psycopg.connect(url, autocommit=True) as conn:
        targets = {}
        for name, base in bases.items():
            org = conn.execute(
                "INSERT INTO organizations (org_name) VALUES (%s) RETURNING id", (name,)
            ).fetchone()[0]
            campaign = conn.execute(
                "INSERT INTO campaigns (organization_id, campaign_name) VALUES (%s, 'Bench') RETURNING id",
                (org,),
            ).fetchone()[0]
            contact = conn.execute(
                "INSERT INTO contacts (organization_id, email) VALUES (%s, %s) RETURNING id",
                (org, f"lead@{name}.example"),
            ).fetchone()[0]
            endpoint = conn.execute(
                "SELECT id FROM public.add_webhook(%s, %s, %s)", (org, f"{base}/", ["reply.received"])
            ).fetchone()[0]
            targets[name] = (org, campaign, contact, endpoint)
        env = child_env(ALLOW_PRIVATE_NETWORK="true", EVENTS_TIMEOUT="10", DB_POOL_SIZE="4", DATABASE_URL=url)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.events", "deliver"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(DELIVERERS)
        ]
        for proc in procs:  # started and listening before the first reply is written
            proc.stdout.readline()
        try:
            expected = defaultdict(int)
            started = time.monotonic()
            for i in range(replies // batch):
                name = rotation[i % len(rotation)]
                if name is None:
                    time.sleep(pause)
                    continue
                org, campaign, contact, _ = targets[name]
                with conn.transaction():
                    ids = conn.execute(
                        "INSERT INTO inbound_messages (organization_id, contact_id, campaign_id, kind, snippet, fingerprint)"
                        " SELECT %s, %s, %s, 'reply', 'Thanks, tell me more.', gen_random_uuid()::text"
                        " FROM generate_series(1, %s) RETURNING id",
                        (org, contact, campaign, batch),
                    ).fetchall()
                now = time.time()
                for (message_id,) in ids:
                    committed[str(message_id)] = now
                expected[name] += len(ids)
                time.sleep(pause)
            written = time.monotonic() - started
            progress(f"{sum(expected.values()):,} replies written in {written:.1f} s; waiting for deliveries")
            deadline = time.monotonic() + 600
            waiting = [targets[n][3] for n in ("fast", "slow") if n in expected]
            while (
                time.monotonic() < deadline
                and conn.execute(
                    "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ANY(%s) AND status = 'pending'",
                    (waiting,),
                ).fetchone()[0]
            ):
                time.sleep(0.2)
            total = time.monotonic() - started
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            # The deliverers' CPU (children waited for so far; the first scenario runs first).
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            heard = {
                name: json.loads(proc.communicate("", timeout=60)[0]) for name, proc in receivers.items()
            }
        states = dict(
            conn.execute("SELECT status, count(*) FROM webhook_deliveries GROUP BY status").fetchall()
        )
    return {
        "replies": sum(expected.values()),
        "written_seconds": written,
        "total_seconds": total,
        "expected": dict(expected),
        "deliverer_cpu_seconds": cpu.ru_utime + cpu.ru_stime,
        "load": os.getloadavg()[0],
        "states": states,
        "endpoints": {name: figures(r, committed) for name, r in heard.items()},
    }


def table(result: dict) -> str:
    e = result["endpoints"]
    lines = [
        f"{result['replies']:,} replies written in {result['written_seconds']:.1f} s ({BATCH} per transaction) to three "
        f"organizations, each with one endpoint: fast (answers at once; {result['expected']['fast']:,} events), slow "
        f"({SLOW_SECONDS * 1000:.0f} ms per answer; {result['expected']['slow']:,}), failing (500 to everything; "
        f"{result['expected']['failing']:,}). {DELIVERERS} deliver_events processes, woken by the database's webhook, "
        "4 requests at once per endpoint each. Time from the reply's commit to its arrival at the endpoint:",
        "",
        "| endpoint | events delivered | attempts | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("fast", "slow", "failing"):
        r = e[name]
        cells = [f"{r[k] * 1000:,.0f} ms" if r[k] is not None else "none" for k in ("p50", "p99", "max")]
        lines.append(f"| {name} | {r['delivered']:,} | {r['attempts']:,} | {' | '.join(cells)} |")
    alone = result["alone"]
    lines.append(
        f"| fast, alone (the same {alone['delivered']:,} replies at the same pace, no other endpoint) | "
        f"{alone['delivered']:,} | {alone['attempts']:,} | "
        + " | ".join(f"{alone[k] * 1000:,.0f} ms" for k in ("p50", "p99", "max"))
        + " |"
    )
    p = result["paced"]
    lines += [
        "",
        f"Paced below what the deliverers can take: {p['replies']:,} replies over {p['written_seconds']:.0f} s "
        "(10 per transaction, ten transactions a second), the same three endpoints:",
        "",
        "| endpoint | events delivered | attempts | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("fast", "slow", "failing"):
        r = p["endpoints"][name]
        cells = [f"{r[k] * 1000:,.0f} ms" if r[k] is not None else "none" for k in ("p50", "p99", "max")]
        lines.append(f"| {name} | {r['delivered']:,} | {r['attempts']:,} | {' | '.join(cells)} |")
    t = result["triggers"]
    lines += [
        "",
        f"The outbox's triggers on the sending path: {t['rows']:,} outreach_flows rows of an organization with an endpoint "
        f"taken through send_due's status changes (scheduled, sending, sent), median of 5 rounds: "
        f"{t['with']:.2f} µs per row change with the triggers, {t['without']:.2f} µs without (events written: {t['outbox']}).",
    ]
    lines += [
        "",
        f"All delivered in {result['total_seconds']:.1f} s, the deliverers using "
        f"{result['deliverer_cpu_seconds'] * 1000 / sum(r['attempts'] for r in e.values()):.1f} ms of CPU per attempt "
        f"(load average {result['load']:.1f} on this shared machine); the failing endpoint's events wait for their next attempt "
        f"(states at the end: {', '.join(f'{k} {v:,}' for k, v in sorted(result['states'].items()))}).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] == ["deliver"]:
        deliverer()
    elif sys.argv[1:2] == ["receive"]:
        receiver(sys.argv[2])
    else:
        result = run()
        print(json.dumps(result, indent=2))
        print(table(result))
