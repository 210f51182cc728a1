"""What every benchmark shares: a database of its own, the machine's description, timing."""

from __future__ import annotations

import os
import platform
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("WEBHOOK_SECRET", "bench-webhook-secret")
os.environ.setdefault("UNSUBSCRIBE_SECRET", "bench-unsubscribe-secret")
os.environ.setdefault("PUBLIC_BASE_URL", "https://outreach.bench")
os.environ.setdefault("DATA_DIR", str(ROOT / ".data" / "bench"))
# The benchmarks' mailboxes are at domains that publish nothing: no sending-domain gate (offline).
os.environ.setdefault("SENDER_DOMAIN_CHECK", "off")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries that across exec,
    so a child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def server_url() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    from local import embedded

    return embedded.start((ROOT / ".data" / "pgbench").resolve())


@contextmanager
def fresh_database():
    """A new, migrated database; DATABASE_URL points at it for this process and its children."""
    from local import migrate
    from shared.core import db
    from shared.core.config import get_settings

    server = server_url()
    name = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(server, dbname=name)
    migrate.apply(url)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    db.close_pool()
    try:
        yield url
    finally:
        db.close_pool()
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        get_settings.cache_clear()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **{k: str(v) for k, v in extra.items()}}


def run_child(args: list[str], timeout: float | None = 1800, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=child_env(**extra),
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    )
