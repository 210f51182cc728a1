"""Mailboxes: send_due through 4 mailboxes, each behind its own SMTP server answering
every reply 50 ms late, against the concurrency bound; and sync_mailboxes over an INBOX of
10,000 messages in Dovecot, then a second run that finds nothing new."""

from __future__ import annotations

import contextlib
import json
import os

import psycopg

from bench.common import fresh_database, progress, run_child
from bench.sending import CpuSplit, project

SEND_ROWS = int(os.environ.get("BENCH_MAILBOX_ROWS", "10000"))
INBOX = int(os.environ.get("BENCH_INBOX_MESSAGES", "10000"))
MAILBOXES = 4
LATENCY = 0.05
CONNECTIONS_PER_MAILBOX = 4
# The replies the test server delays: MAIL FROM, RCPT TO and the end of the data (its 354 to
# DATA comes at once). A connection carries at most one message per 3 x 50 ms.
REPLIES_PER_MESSAGE = 3
# Messages one send_due call claims: the threads idle at the end of each claim while its last
# messages go, so larger claims come closer to the bound (0.88 and 0.89 with 500, two runs).
CLAIM = int(os.environ.get("BENCH_MAILBOX_CLAIM", "1000"))


def sending() -> dict:
    from tests.acceptance.bulk import due_messages
    from tests.mailserver import Behaviour, Logins, MailServer

    with fresh_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            org, _ = due_messages(conn, SEND_ROWS)
        with contextlib.ExitStack() as stack:
            servers = [
                stack.enter_context(
                    MailServer(
                        Behaviour(latency=LATENCY),
                        authenticator=Logins("mailer", "pw"),
                        auth_require_tls=False,
                    )
                )
                for _ in range(MAILBOXES)
            ]
            with psycopg.connect(url, autocommit=True) as conn:
                for i, server in enumerate(servers):
                    conn.execute(
                        "SELECT public.add_mailbox(%s, %s, %s, NULL, 10000)",
                        (org, f"box{i}@team.example", f"smtp://mailer:pw@127.0.0.1:{server.port}"),
                    )
            connections = MAILBOXES * CONNECTIONS_PER_MAILBOX
            progress(
                f"mailboxes: send_due x1, {SEND_ROWS} rows over {MAILBOXES} mailboxes, {LATENCY * 1000:.0f} ms a reply"
            )
            with CpuSplit() as cpu:
                _, (output,) = project(
                    "",
                    1,
                    CONNECTIONS_PER_MAILBOX,
                    limit=CLAIM,
                    MAIL_TRANSPORT="file",
                    ALLOW_PRIVATE_NETWORK="true",
                    DB_POOL_SIZE=str(connections),
                )
            delivered = [len(s.recorder.message_ids()) for s in servers]
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


def syncing() -> dict:
    from tests.acceptance.bulk import due_messages, inbound_mail, sent_through_mailbox
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
            flows = sent_through_mailbox(conn, box, campaign)
        progress(f"mailboxes: {INBOX} messages into the INBOX (Maildir)")
        dovecot.deliver_to_maildir(user, inbound_mail(flows, INBOX))
        runs = []
        for label in ("first", "second"):
            progress(f"mailboxes: sync_mailboxes, {label} run")
            out = run_child(
                ["-m", "tests.acceptance.sync_process"],
                DATABASE_URL=url,
                ALLOW_PRIVATE_NETWORK="true",
                IMAP_TIMEOUT="120",
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"messages": INBOX, "runs": runs}


def run() -> dict:
    return {"sending": sending(), "sync": syncing()}


def table(result: dict) -> str:
    s = result["sending"]
    lines = [
        f"send_due, one instance claiming {CLAIM:,} at a time, {s['rows']:,} due messages over {MAILBOXES} mailboxes, each behind its own "
        f"aiosmtpd server adding {LATENCY * 1000:.0f} ms to every reply ({REPLIES_PER_MESSAGE} replies a message, so "
        f"one connection carries at most {1 / (REPLIES_PER_MESSAGE * LATENCY):.1f} messages a second), "
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
