"""The main command (`make run`): a whole campaign on this machine.

Embedded PostgreSQL with migrations and the demo seed; every function served locally by
functions-framework; a listener turning the database's pg_notify webhooks into HTTP calls; a
timer making Cloud Scheduler's calls (drains and send_due); the fixture website on loopback
behind the offline search provider; the template drafter; mail to .data/outbox/. With real
keys in the environment (SEARCH_PROVIDER, LLM_BASE_URL, MAIL_TRANSPORT, ...) the same command
uses them.

    python -m local.run                   run the demo campaign to the end, then a summary
    python -m local.run --serve           keep everything running for manual use
    python -m local.run --drop-webhooks   lose every webhook on purpose: the drains finish the work
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt
import psycopg

from shared.core.config import ROOT
from shared.core.queries import parse

# The local run's own statements (its progress line and summary), beside it.
STATS = parse((Path(__file__).parent / "stats.sql").read_text(encoding="utf-8"), "stats.sql")

FUNCTIONS = (
    "create_campaign",
    "run_search",
    "scrape_url",
    "draft_message",
    "send_due",
    "sync_mailboxes",
    "unsubscribe_webhook",
    "deliver_events",
    "console",
)
DRAINS = ("run_search", "scrape_url", "draft_message")
DEMO_USER = "00000000-0000-4000-8000-000000000001"
DEMO_ORG = "00000000-0000-4000-8000-0000000000a1"
DEMO_QUERIES = ["yoga studios in Miami Beach", "pilates studios in Madrid"]
STAGES = ("search", "scrape", "draft", "send")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    webhooks: dict[str, int] = field(default_factory=lambda: {"delivered": 0, "dropped": 0, "failed": 0})

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start_functions(self, log_dir: Path) -> None:
        runner = (
            shutil.which("functions-framework", path=str(Path(sys.executable).parent))
            or "functions-framework"
        )
        log_dir.mkdir(parents=True, exist_ok=True)
        for name in FUNCTIONS:
            log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child process owns it
            self.processes.append(
                subprocess.Popen(
                    [
                        runner,
                        "--target",
                        name,
                        "--source",
                        str(ROOT / "functions" / name / "main.py"),
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(self.ports[name]),
                    ],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 60
        for name in FUNCTIONS:
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", self.ports[name]), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{name} did not start; see {log_dir / (name + '.log')}") from None
                    time.sleep(0.2)

    def call(self, name: str, body: dict, timeout: float = 120) -> dict:
        response = httpx.post(
            self.url(name),
            json=body,
            timeout=timeout,
            headers={"X-Webhook-Secret": self.env["WEBHOOK_SECRET"]},
        )
        return response.json()

    def listen(self, database_url: str, drop: bool) -> None:
        """Turns pg_notify webhooks into the HTTP calls pg_net makes on Supabase."""
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("LISTEN outreach_webhooks")
            while not self.stop.is_set():
                if not select.select([conn.fileno()], [], [], 0.5)[0]:
                    continue
                for note in conn.notifies(timeout=0, stop_after=100):
                    if drop:
                        self.webhooks["dropped"] += 1
                        continue
                    message = json.loads(note.payload)
                    threading.Thread(target=self._deliver, args=(message,), daemon=True).start()

    def _deliver(self, message: dict) -> None:
        try:
            self.call(message["function"], message["payload"])
            self.webhooks["delivered"] += 1
        except (httpx.HTTPError, ValueError):
            self.webhooks["failed"] += 1

    def schedule(self, every: float) -> None:
        """Cloud Scheduler's calls: the drains, send_due, sync_mailboxes and deliver_events."""
        calls = [(name, {"drain": True, "limit": 50}) for name in DRAINS] + [
            ("send_due", {}),
            ("sync_mailboxes", {}),
            ("deliver_events", {}),
        ]
        while not self.stop.wait(every):
            for name, body in calls:
                with contextlib.suppress(httpx.HTTPError, ValueError):  # the next tick tries again
                    self.call(name, body)

    def shutdown(self) -> None:
        self.stop.set()
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def prepare_environment(data_dir: Path) -> tuple[dict[str, str], str, object]:
    """The environment every local process shares, and the database URL."""
    from local import embedded, migrate
    from shared.core.config import get_settings

    settings = get_settings()
    url = settings.database_url or embedded.ensure_started(settings.data_dir)
    migrate.apply(url)
    migrate.apply_seed(url)
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            "DATA_DIR": str(data_dir),
            "WEBHOOK_SECRET": settings.webhook_secret.get_secret_value(),
            "UNSUBSCRIBE_SECRET": settings.unsubscribe_secret.get_secret_value(),
            "PYTHONPATH": str(ROOT),
            "DRAIN_GRACE_SECONDS": env.get("DRAIN_GRACE_SECONDS", "5"),
        }
    )
    env.setdefault("SUPABASE_JWT_SECRET", "local-jwt-secret-" + secrets.token_hex(16))
    sites = None
    if settings.search_provider == "fixture":
        from local.fixture_site import FixtureSites

        sites = FixtureSites().start()
        env["FIXTURE_SITE_URLS"] = ",".join(sites.urls)
        env["ALLOW_PRIVATE_NETWORK"] = "true"  # the fixture sites live on loopback
        # Offline: the fixture businesses' domains have no DNS records to look up.
        env.setdefault("EMAIL_CHECK_DELIVERABILITY", "false")
    # The demo's sending domains publish no SPF or DMARC: local runs do not hold mail for it
    # (set SENDER_DOMAIN_CHECK to check real mailboxes' domains).
    env.setdefault("SENDER_DOMAIN_CHECK", "off")
    return env, url, sites


def console_link(stack: Stack, hours: int = 8) -> str:
    """The console signed in as the demo organization's admin: a locally signed token in the
    fragment, as a magic link brings one back (the page keeps it and clears the address bar)."""
    expires = int(time.time()) + hours * 3600
    claims = {
        "sub": DEMO_USER,
        "aud": "authenticated",
        "role": "authenticated",
        "exp": expires,
        "email": "demo@outreach.local",
    }
    token = jwt.encode(claims, stack.env["SUPABASE_JWT_SECRET"], algorithm="HS256")
    return f"{stack.url('console')}/#access_token={token}&expires_at={expires}&token_type=bearer"


def create_demo_campaign(stack: Stack) -> dict:
    token = jwt.encode(
        {"sub": DEMO_USER, "aud": "authenticated", "role": "authenticated", "exp": int(time.time()) + 3600},
        stack.env["SUPABASE_JWT_SECRET"],
        algorithm="HS256",
    )
    body = {
        "organization_id": DEMO_ORG,
        "campaign_name": f"Studio equipment demo {time.strftime('%Y-%m-%d %H:%M:%S')}",
        "instructions": "We make durable, eco-friendly studio mats and props, and offer a free sample set.",
        "tone": "friendly",
        "word_limit": 120,
        "default_language": "en",
        "search_queries": DEMO_QUERIES,
        "ai_settings": {
            "sending_window": {
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start_hour": 0,
                "end_hour": 24,
                "timezone": "UTC",
            }
        },
    }
    response = httpx.post(
        stack.url("create_campaign"), json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    if response.status_code != 201:
        raise SystemExit(f"create_campaign answered {response.status_code}: {response.text}")
    return response.json()


def stats(database_url: str, campaign_id: str) -> tuple[dict, int]:
    with psycopg.connect(database_url) as conn:
        conn.row_factory = psycopg.rows.dict_row
        row = conn.execute(STATS["campaign-stats"], {"campaign_id": campaign_id}).fetchone()
        due = conn.execute(STATS["sending-soon"], {"campaign_id": campaign_id}).fetchone()["n"]
    return row, due


def finished_stages(row: dict, due: int) -> set[str]:
    def open_count(counts: dict, *states: str) -> int:
        return sum(counts.get(s, 0) for s in states)

    done = set()
    if row["search_tasks"] and not open_count(row["search_tasks"], "pending", "in_progress"):
        done.add("search")
    if "search" in done and not open_count(row["scrape_results"], "pending", "scraping"):
        done.add("scrape")
    if "scrape" in done and not open_count(row["campaign_contacts"], "pending", "drafting"):
        done.add("draft")
    if "draft" in done and due == 0:
        done.add("send")
    return done


def progress_line(row: dict, due: int, elapsed: float) -> str:
    def total(counts: dict) -> int:
        return sum(counts.values())

    def final(counts: dict, *states: str) -> int:
        return sum(counts.get(s, 0) for s in states)

    return (
        f"[{elapsed:5.1f}s] search {final(row['search_tasks'], 'completed', 'failed')}/{total(row['search_tasks'])}"
        f" | sites {final(row['scrape_results'], 'completed', 'failed', 'skipped')}/{total(row['scrape_results'])}"
        f" | drafts {final(row['campaign_contacts'], 'drafted', 'failed', 'skipped')}/{total(row['campaign_contacts'])}"
        f" | sent {row['outreach_flows'].get('sent', 0)} | to send {due}"
    )


def summary(row: dict, timings: dict[str, float], outbox: Path, webhooks: dict) -> str:
    def fmt(counts: dict) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"

    flows = row["outreach_flows"]
    lines = [
        ("search tasks", sum(row["search_tasks"].values()), fmt(row["search_tasks"]), timings.get("search")),
        ("sites", sum(row["scrape_results"].values()), fmt(row["scrape_results"]), timings.get("scrape")),
        (
            "contacts",
            sum(row["campaign_contacts"].values()),
            fmt(row["campaign_contacts"]),
            timings.get("draft"),
        ),
        ("drafts (emails)", sum(flows.values()), fmt(flows), None),
        (
            "sent",
            flows.get("sent", 0),
            "first step of each sequence; follow-ups wait their days",
            timings.get("send"),
        ),
        ("failed", flows.get("failed", 0), "", None),
        (
            "unsubscribed",
            row["campaign_unsubscribes"] + row["unsubscribed_everywhere"],
            f"campaign {row['campaign_unsubscribes']}, everything {row['unsubscribed_everywhere']}",
            None,
        ),
    ]
    width = max(len(label) for label, *_ in lines)
    out = [f"{'stage'.ljust(width)}  {'count':>6}  {'done at':>8}  details", "-" * (width + 60)]
    for label, count, detail, at in lines:
        done = f"{at:7.1f}s" if at is not None else ""
        out.append(f"{label.ljust(width)}  {count:>6}  {done:>8}  {detail}")
    out.append("")
    out.append(
        f"webhooks: delivered {webhooks['delivered']}, dropped {webhooks['dropped']}, failed {webhooks['failed']}"
    )
    out.append(f"sent messages: {outbox}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help="keep everything running until Ctrl-C")
    parser.add_argument(
        "--drop-webhooks", action="store_true", help="lose every webhook; only the drains work"
    )
    parser.add_argument("--timeout", type=float, default=180, help="give up after this many seconds")
    parser.add_argument("--tick", type=float, default=2.0, help="seconds between the scheduler's calls")
    args = parser.parse_args(argv)

    from shared.core.config import get_settings

    data_dir = get_settings().data_dir
    started = time.monotonic()
    print("starting: embedded database, migrations and seed", flush=True)
    env, database_url, sites = prepare_environment(data_dir)
    stack = Stack(env, ports={name: free_port() for name in FUNCTIONS})
    # The links in the emails point at the local unsubscribe_webhook, unless told otherwise.
    stack.env.setdefault("PUBLIC_BASE_URL", stack.url("unsubscribe_webhook"))
    try:
        print(f"starting: {len(FUNCTIONS)} functions, webhook listener, scheduler timer", flush=True)
        stack.start_functions(data_dir / "logs")
        threading.Thread(target=stack.listen, args=(database_url, args.drop_webhooks), daemon=True).start()
        threading.Thread(target=stack.schedule, args=(args.tick,), daemon=True).start()
        created = create_demo_campaign(stack)
        campaign_id = created["campaign"]["id"]
        print(
            f"campaign {created['campaign']['campaign_name']!r} created with "
            f"{len(created['search_tasks'])} search tasks",
            flush=True,
        )
        if args.serve:
            for name in FUNCTIONS:
                print(f"  {name:20} {stack.url(name)}")
            print(f"console (signed in as the demo admin): {console_link(stack)}")
            print("serving; Ctrl-C to stop", flush=True)
            while True:
                time.sleep(3600)

        timings: dict[str, float] = {}
        last = ""
        while True:
            row, due = stats(database_url, campaign_id)
            elapsed = time.monotonic() - started
            for stage in finished_stages(row, due):
                timings.setdefault(stage, elapsed)
            line = progress_line(row, due, elapsed)
            if line.split("]", 1)[1] != last:
                print(line, flush=True)
                last = line.split("]", 1)[1]
            if len(timings) == len(STAGES):
                break
            if elapsed > args.timeout:
                print(f"timed out after {args.timeout:.0f}s; see {data_dir / 'logs'}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        print()
        print(summary(row, timings, get_settings().outbox_dir, stack.webhooks))
        print(f"console (while running; `make serve` keeps it): {console_link(stack)}")
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        stack.shutdown()
        if sites:
            sites.stop()


if __name__ == "__main__":
    sys.exit(main())
