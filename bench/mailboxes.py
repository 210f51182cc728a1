"""Mailboxes (issue 16): send_due through 4 mailboxes, each behind its own SMTP server answering
every reply 50 ms late, against the concurrency bound; and sync_mailboxes over an INBOX of
10,000 messages in Dovecot, then a second run that finds nothing new."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import psycopg

from bench.common import child_env, fresh_database, progress, run_child
from bench.sending import CpuSplit

SEND_ROWS = int(os.environ.get("BENCH_MAILBOX_ROWS", "10000"))
INBOX = int(os.environ.get("BENCH_INBOX_MESSAGES", "10000"))
MAILBOXES = 4
LATENCY = 0.05
CONNECTIONS_PER_MAILBOX = 4
# The replies the test server delays: MAIL FROM, RCPT TO and the end of the data (its 354 to
# DATA comes at once). A connection carries at most one message per 3 x 50 ms.
REPLIES_PER_MESSAGE = 3


def sending() -> dict:
    from tests.acceptance.bulk import due_messages
    from tests.mailserver import Behaviour, Logins, MailServer

    with fresh_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            org, _ = due_messages(conn, SEND_ROWS)
        servers = [
            MailServer(
                Behaviour(latency=LATENCY), authenticator=Logins("mailer", "pw"), auth_require_tls=False
            )
            for _ in range(MAILBOXES)
        ]
        for server in servers:
            server.__enter__()
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                for i, server in enumerate(servers):
                    conn.execute(
                        "SELECT public.add_mailbox(%s, %s, %s, NULL, 10000)",
                        (org, f"box{i}@team.example", f"smtp://mailer:pw@127.0.0.1:{server.port}"),
                    )
            connections = MAILBOXES * CONNECTIONS_PER_MAILBOX
            env = child_env(
                MAIL_TRANSPORT="file",
                ALLOW_PRIVATE_NETWORK="true",
                SEND_RATE_PER_SECOND="0",
                SEND_DOMAIN_SPACING_SECONDS="0",
                SMTP_POOL_SIZE=str(CONNECTIONS_PER_MAILBOX),
                DB_POOL_SIZE=str(connections),
                SEND_BATCH_SIZE="1000",
            )
            progress(
                f"mailboxes: send_due x1, {SEND_ROWS} rows over {MAILBOXES} mailboxes, {LATENCY * 1000:.0f} ms a reply"
            )
            with CpuSplit() as cpu:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "tests.acceptance.sender_process", "1000"],
                    env=env,
                    cwd=Path(__file__).resolve().parent.parent,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
                output = json.loads(proc.communicate(timeout=3600)[0].strip().splitlines()[-1])
            delivered = [len(s.recorder.message_ids()) for s in servers]
        finally:
            for server in servers:
                server.__exit__(None, None, None)
    seconds = output["ended"] - output["started"]
    bound = connections / (REPLIES_PER_MESSAGE * LATENCY)
    return {
        "rows": SEND_ROWS,
        "seconds": seconds,
        "rate": SEND_ROWS / seconds,
        "bound": bound,
        "connections": connections,
        "delivered": delivered,
        "sent": output["sent"],
        "cpu": cpu.per_message_ms(SEND_ROWS),
        "rss_mb": output["max_rss_mb"],
    }


def inbox_messages(flows: list[tuple[str, str]], count: int) -> list[bytes]:
    """Mail as it comes back: one in ten a reply to a message sent, one in fifty a bounce
    report, one in twenty an automatic reply, the rest newsletters and strangers' mail."""
    out = []
    for i in range(count):
        message_id, address = flows[i % len(flows)]
        date = format_datetime(datetime.now(UTC))
        own = f"<{secrets.token_hex(8)}@greenleaf.example>"
        if i % 10 == 0:
            head = f"From: <{address}>\r\nSubject: Re: Hello\r\nIn-Reply-To: {message_id}\r\n"
            body = "Yes, tell me more.\r\n\r\nOn Monday, Ana wrote:\r\n> Hello\r\n"
        elif i % 50 == 1:
            head = (
                "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
                'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
            )
            body = (
                "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
                "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
                f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n--B--\r\n"
            )
        elif i % 20 == 2:
            head = f"From: <{address}>\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\nIn-Reply-To: {message_id}\r\n"
            body = "I am away until 7 January.\r\n"
        else:
            head = f"From: news{i}@list.example\r\nSubject: November news {i}\r\nList-Id: <news.list.example>\r\n"
            body = "Our news this month. " * 40 + "\r\n"
        if "Content-Type" not in head:
            head += "Content-Type: text/plain; charset=utf-8\r\n"
        out.append(f"{head}To: box@team.example\r\nDate: {date}\r\nMessage-ID: {own}\r\n\r\n{body}".encode())
    return out


def syncing() -> dict:
    from tests.acceptance.bulk import due_messages
    from tests.imapserver import Dovecot

    with fresh_database() as url, Dovecot() as dovecot:
        user = "box@team.example"
        dovecot.add_user(user, "imap-pw")
        with psycopg.connect(url, autocommit=True) as conn:
            org, campaign = due_messages(conn, 2000, steps=2)
            box = conn.execute(
                "SELECT public.add_mailbox(%s, %s, 'smtp://u:p@127.0.0.1:1', %s, 100)",
                (org, user, dovecot.url(user)),
            ).fetchone()[0]
            flows = conn.execute(
                "UPDATE outreach_flows SET status = 'sent', sent_at = now(), mailbox_id = %s,"
                " message_id = '<' || id || '@team.example>' WHERE campaign_id = %s AND sequence_order = 0"
                " RETURNING message_id, (SELECT email FROM contacts WHERE id = contact_id)",
                (box, campaign),
            ).fetchall()
        progress(f"mailboxes: {INBOX} messages into the INBOX (Maildir)")
        deliver_to_maildir(
            dovecot.root / "mail" / user, inbox_messages(flows, INBOX), dovecot.uid, dovecot.gid
        )
        runs = []
        for label in ("first", "second"):
            progress(f"mailboxes: sync_mailboxes, {label} run")
            out = run_child(
                ["-m", "bench.mailboxes", "sync"],
                DATABASE_URL=url,
                ALLOW_PRIVATE_NETWORK="true",
                IMAP_TIMEOUT="120",
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"messages": INBOX, "runs": runs}


def deliver_to_maildir(maildir: Path, messages: list[bytes], uid: int, gid: int) -> None:
    """As a delivery agent does: each message a file in new/, which Dovecot takes in on SELECT."""
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)
    stamp = int(time.time())
    for i, raw in enumerate(messages):
        path = maildir / "new" / f"{stamp}.M{i}P{os.getpid()}.bench"
        path.write_bytes(raw)
        os.chown(path, uid, gid)
    for path in [maildir, *maildir.iterdir()]:
        os.chown(path, uid, gid)


def _sync_child() -> None:
    from bench.common import peak_rss_mb
    from shared.inbound import sync

    started = time.perf_counter()
    counts = sync.run()
    print(json.dumps({"seconds": time.perf_counter() - started, "rss_mb": peak_rss_mb(), **counts}))


def run() -> dict:
    return {"sending": sending(), "sync": syncing()}


def table(result: dict) -> str:
    s = result["sending"]
    lines = [
        f"send_due, one instance, {s['rows']:,} due messages over {MAILBOXES} mailboxes, each behind its own "
        f"aiosmtpd server adding {LATENCY * 1000:.0f} ms to every reply ({REPLIES_PER_MESSAGE} replies a message, so "
        f"one connection carries at most {1 / (REPLIES_PER_MESSAGE * LATENCY):.0f} messages a second), "
        f"{CONNECTIONS_PER_MAILBOX} connections a mailbox:",
        "",
        "| messages | time | throughput | concurrency bound | ratio | delivered per mailbox | PostgreSQL and the rest, CPU per message | send_due CPU per message | peak RSS |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|",
        f"| {s['rows']:,} | {s['seconds']:.1f} s | {s['rate']:.1f} msg/s | {s['bound']:.0f} msg/s "
        f"({s['connections']} connections / ({REPLIES_PER_MESSAGE} x {LATENCY * 1000:.0f} ms)) | **{s['rate'] / s['bound']:.2f}** | "
        f"{' / '.join(f'{n:,}' for n in s['delivered'])} | {s['cpu']['other']:.2f} ms | {s['cpu']['client']:.2f} ms | {s['rss_mb']:.0f} MB |",
        "",
        f"sync_mailboxes over one INBOX of {result['sync']['messages']:,} messages in Dovecot (one in ten a reply, "
        "one in fifty a bounce report, one in twenty an automatic reply, the rest newsletters), in a process of its own:",
        "",
        "| run | messages read | replies | automatic replies | bounces | ignored | time | per message | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in zip(("first", "second, nothing new"), result["sync"]["runs"], strict=True):
        per = f"{r['seconds'] * 1000 / r['read']:.2f} ms" if r["read"] else "none"
        lines.append(
            f"| {label} | {r['read']:,} | {r['reply']:,} | {r['auto_reply']:,} | {r['bounce']:,} | {r['ignored']:,} | "
            f"{r['seconds']:.2f} s | {per} | {r['rss_mb']:.0f} MB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] == ["sync"]:
        _sync_child()
