"""Cold start of each function: import time, time to the first answered request, and peak
memory after a realistic batch of requests, each in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx

from bench.common import ROOT, child_env, fresh_database, progress, run_child
from local.run import FUNCTIONS, free_port

FIRST_REQUEST = {
    "create_campaign": ("POST", {}, {"Authorization": "Bearer x"}),
    "run_search": ("POST", {"drain": True, "limit": 1}, None),
    "scrape_url": ("POST", {"drain": True, "limit": 1}, None),
    "draft_message": ("POST", {"drain": True, "limit": 1}, None),
    "send_due": ("POST", {}, None),
    "sync_mailboxes": ("POST", {}, None),
    "unsubscribe_webhook": ("GET", None, None),
    "deliver_events": ("POST", {}, None),
}


def import_ms(fn: str) -> float:
    """Best of three: `import main` in a fresh interpreter, minus an empty interpreter."""

    def best(code: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", code],
                cwd=ROOT / "functions" / fn,
                env=child_env(),
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
        return min(times)

    return (best("import main") - best("pass")) * 1000


def first_request_ms(fn: str) -> float:
    port = free_port()
    runner = os.path.join(os.path.dirname(sys.executable), "functions-framework")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            runner,
            "--target",
            fn,
            "--source",
            str(ROOT / "functions" / fn / "main.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    method, body, headers = FIRST_REQUEST[fn]
    headers = {"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"], **(headers or {})}
    try:
        while True:
            try:
                httpx.request(method, f"http://127.0.0.1:{port}/", json=body, headers=headers, timeout=30)
                return (time.perf_counter() - started) * 1000
            except httpx.ConnectError:
                if time.perf_counter() - started > 60:
                    raise
                time.sleep(0.01)
    finally:
        proc.terminate()
        proc.wait()


def run() -> dict:
    rows = []
    with fresh_database():
        for fn in FUNCTIONS:
            progress(f"cold start: {fn}")
            memory = json.loads(
                run_child(["-m", "bench.function_memory", fn]).stdout.strip().splitlines()[-1]
            )
            rows.append(
                {"function": fn, "import_ms": import_ms(fn), "first_ms": first_request_ms(fn), **memory}
            )
    return {"rows": rows}


def table(result: dict) -> str:
    lines = [
        "| function | import | first answered request (process start to reply) | realistic batch | peak RSS |",
        "|---|---:|---:|---|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['function']} | {r['import_ms']:,.0f} ms | {r['first_ms']:,.0f} ms | {r['batch']} "
            f"| {r['rss_mb']:.0f} MB |"
        )
    return "\n".join(lines)
