"""send_due throughput into a local aiosmtpd server: one instance and four, against a bare
smtplib loop sending the same prepared messages over one reused connection, in the same run;
then the same with 5 ms added to every SMTP reply."""

from __future__ import annotations

import base64
import json
import os
import resource
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.common import ROOT, child_env, fresh_database, progress, run_child

ROWS = int(os.environ.get("BENCH_SEND_ROWS", "10000"))
POOL = int(os.environ.get("BENCH_SEND_POOL", "4"))
LATENCY_ROWS = int(os.environ.get("BENCH_SEND_LATENCY_ROWS", str(ROWS)))


def prepared_messages(database_url: str) -> list[tuple[str, str, bytes]]:
    """The very messages send_due would compose for the due rows, built once, for the bare loop."""
    from shared.core import db
    from shared.sending import message
    from shared.sending.rows import SendContext

    with psycopg.connect(database_url) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM outreach_flows WHERE status = 'scheduled'")]
        contexts = db.fetch_all(conn, "load-send-context", SendContext, ids=ids)
    out = []
    for ctx in contexts:
        outgoing = message.compose(ctx, message.new_message_id(message.sender_address(ctx)))
        out.append((outgoing.sender, outgoing.recipient, outgoing.as_bytes()))
    return out


def bare_loop(port: int, messages: list[tuple[str, str, bytes]]) -> float:
    """The loop runs in a process of its own, as send_due does: in this one it would share the
    interpreter lock with the SMTP server's thread and look slower than it is."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as prepared:
        json.dump([(s, r, base64.b64encode(data).decode()) for s, r, data in messages], prepared)
        prepared.flush()
        out = run_child(["-m", "bench.sending", "bare", str(port), prepared.name])
    return float(out.stdout.strip().splitlines()[-1])


def _bare_child(port: int, path: str) -> None:
    with open(path) as f:
        messages = [(s, r, base64.b64decode(data)) for s, r, data in json.load(f)]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipient, data in messages:
            smtp.sendmail(sender, [recipient], data)
    print(time.perf_counter() - started)


def project(
    url: str,
    instances: int,
    pool: int = POOL,
    module: str = "tests.acceptance.sender_process",
    limit: int = 500,
    **settings: str,
) -> tuple[float, list[dict]]:
    """send_due in `instances` processes at once. The time is from the first batch's start to the
    last one's end: the interpreter's start and imports are left out, as the bare loop's are
    (a deployed function's cold start is measured in bench/coldstart.py). `settings` override
    the environment."""
    env = child_env(
        **{
            "MAIL_TRANSPORT": "smtp",
            "SMTP_URL": url,
            "SEND_RATE_PER_SECOND": "0",
            "SEND_DOMAIN_SPACING_SECONDS": "0",
            "SMTP_POOL_SIZE": str(pool),
            "DB_POOL_SIZE": str(pool),
            "SEND_BATCH_SIZE": str(limit),
            **settings,
        }
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", module, str(limit)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(instances)
    ]
    outputs = [json.loads(p.communicate(timeout=3600)[0].strip().splitlines()[-1]) for p in procs]
    return max(o["ended"] for o in outputs) - min(o["started"] for o in outputs), outputs


class CpuSplit:
    """CPU seconds spent during a block: by this process (the SMTP server's thread; the rest of
    it idles), by the child processes waited for (the client), and by everything else on the
    machine (PostgreSQL and the kernel's share not charged to a process)."""

    def __enter__(self):
        self.start = self._sample()
        return self

    def __exit__(self, *exc):
        end = self._sample()
        self.server, self.client, busy = (b - a for a, b in zip(self.start, end, strict=True))
        self.other = max(busy - self.server - self.client, 0.0)

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        own = os.times()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = ticks[3] + ticks[4]  # idle and iowait
        busy = (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")
        return own.user + own.system, children.ru_utime + children.ru_stime, busy

    def per_message_ms(self, rows: int) -> dict:
        return {k: getattr(self, k) * 1000 / rows for k in ("client", "server", "other")}


def one_setting(rows: int, latency: float) -> dict:
    from tests.acceptance.bulk import due_messages
    from tests.mailserver import Behaviour, MailServer

    result = {"rows": rows, "latency_ms": latency * 1000}
    for instances in (1, 4):
        with fresh_database() as url:
            with psycopg.connect(url, autocommit=True) as conn:
                due_messages(conn, rows)
            if instances == 1:
                messages = prepared_messages(url)
                with MailServer(Behaviour(latency=latency)) as server:
                    progress(f"sending: bare smtplib loop, {rows} messages, {latency * 1000:.0f} ms latency")
                    with CpuSplit() as cpu:
                        result["bare_s"] = bare_loop(server.port, messages)
                    result["bare_cpu"] = cpu.per_message_ms(rows)
            with MailServer(Behaviour(latency=latency)) as server:
                progress(f"sending: send_due x{instances}, {rows} rows, {latency * 1000:.0f} ms latency")
                with CpuSplit() as cpu:
                    seconds, outputs = project(server.url, instances)
                result[f"project{instances}_cpu"] = cpu.per_message_ms(rows)
                delivered = len(server.recorder.message_ids())
        result[f"project{instances}_s"] = seconds
        result[f"project{instances}_sent"] = sum(o["sent"] for o in outputs)
        result[f"project{instances}_delivered"] = delivered
        result[f"project{instances}_rss_mb"] = max(o["max_rss_mb"] for o in outputs)
    if latency == 0:
        with fresh_database() as url:
            with psycopg.connect(url, autocommit=True) as conn:
                due_messages(conn, rows)
            with MailServer(Behaviour()) as server:
                progress(f"sending: send_due x1 without its durable write per message, {rows} rows")
                with CpuSplit() as cpu:
                    seconds, _ = project(server.url, 1, module="bench.sender_without_record")
                assert len(server.recorder.message_ids()) == rows
        result["unrecorded_s"] = seconds
        result["unrecorded_cpu"] = cpu.per_message_ms(rows)
    return result


def pool_sweep(rows: int, latency: float, pools: tuple[int, ...] = (8, 16)) -> dict[int, float]:
    """One instance with larger connection pools under SMTP latency: messages per second."""
    from tests.acceptance.bulk import due_messages
    from tests.mailserver import Behaviour, MailServer

    rates = {}
    for pool in pools:
        with fresh_database() as url:
            with psycopg.connect(url, autocommit=True) as conn:
                due_messages(conn, rows)
            with MailServer(Behaviour(latency=latency)) as server:
                progress(
                    f"sending: send_due x1, pool of {pool}, {rows} rows, {latency * 1000:.0f} ms latency"
                )
                seconds, _ = project(server.url, 1, pool)
                assert len(server.recorder.message_ids()) == rows
        rates[pool] = rows / seconds
    return rates


def run() -> dict:
    return {
        "plain": one_setting(ROWS, 0.0),
        "latency": one_setting(LATENCY_ROWS, 0.005),
        "pools": pool_sweep(LATENCY_ROWS, 0.005),
    }


def table(result: dict) -> str:
    lines = [
        "| SMTP latency | rows | bare smtplib loop (1 connection) | send_due, 1 instance | ratio | "
        "send_due, 4 instances | ratio | delivered | peak RSS of one send_due process |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for key in ("plain", "latency"):
        r = result[key]
        bare = r["rows"] / r["bare_s"]
        one = r["rows"] / r["project1_s"]
        four = r["rows"] / r["project4_s"]
        lines.append(
            f"| {r['latency_ms']:.0f} ms per reply | {r['rows']:,} | {bare:,.0f} msg/s | {one:,.0f} msg/s | "
            f"**{one / bare:.2f}** | {four:,.0f} msg/s | **{four / bare:.2f}** | "
            f"{r['project1_delivered']:,} and {r['project4_delivered']:,}, each once | {r['project1_rss_mb']:.0f} MB |"
        )
    plain, slow = result["plain"], result["latency"]
    plain_rate = plain["rows"] / plain["project1_s"]
    lines += [
        "",
        "One instance with 5 ms per reply, by the size of its pool of SMTP connections (each message waits for "
        "four replies, so a connection carries at most 50 a second):",
        "",
        "| connections | msg/s | at most | of its no-latency throughput |",
        "|---:|---:|---:|---:|",
    ]
    for pool, rate in {POOL: slow["rows"] / slow["project1_s"], **result["pools"]}.items():
        lines.append(f"| {pool} | {rate:,.0f} | {pool * 50:,} | **{rate / plain_rate:.2f}** |")
    lines.append(
        f"\nThe bare single-connection loop keeps "
        f"{(slow['rows'] / slow['bare_s']) / (plain['rows'] / plain['bare_s']):.2f} of its no-latency throughput."
    )
    lines += [
        "",
        "CPU per message with no added latency (milliseconds of CPU on the 2 cores, measured over each run;",
        "the project's client includes its processes' start):",
        "",
        "| run | client | SMTP server | PostgreSQL and the rest | in all |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, key in (
        ("bare smtplib loop", "bare_cpu"),
        ("send_due, 1 instance", "project1_cpu"),
        ("send_due, 4 instances", "project4_cpu"),
        (
            "send_due, 1 instance, without its durable write per message (not a mode of the product)",
            "unrecorded_cpu",
        ),
    ):
        c = plain[key]
        lines.append(
            f"| {label} | {c['client']:.2f} | {c['server']:.2f} | {c['other']:.2f} | {sum(c.values()):.2f} |"
        )
    unrecorded = plain["rows"] / plain["unrecorded_s"]
    lines.append(
        f"\nWithout its durable write before each send (a read-only suppression check instead; "
        f"`bench/sender_without_record.py`), one instance would send {unrecorded:,.0f} msg/s, "
        f"**{unrecorded / (plain['rows'] / plain['bare_s']):.2f}** of the bare loop: the bound on what "
        f"writing less per message could gain here."
    )
    return "\n".join(lines)


if __name__ == "__main__" and sys.argv[1:2] == ["bare"]:
    _bare_child(int(sys.argv[2]), sys.argv[3])
