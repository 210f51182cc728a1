"""Many due messages at once, inserted in set-based statements (fast enough for 100,000s)."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime


def due_messages(conn, count: int, *, steps: int = 1, domains: int | None = None) -> tuple:
    """One organization and campaign with `count` contacts, each with `steps` due messages."""
    org_id = conn.execute(
        "INSERT INTO organizations (org_name, daily_send_cap) VALUES ('Bulk sender', 1000000) RETURNING id"
    ).fetchone()[0]
    settings = {
        "daily_cap": 10000,
        "sending_window": {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start_hour": 0,
            "end_hour": 24,
        },
    }
    campaign_id = conn.execute(
        "INSERT INTO campaigns (organization_id, campaign_name, ai_settings) VALUES (%s, 'Bulk', %s) RETURNING id",
        (org_id, json.dumps(settings)),
    ).fetchone()[0]
    domains = domains or count
    conn.execute(
        """
        INSERT INTO contacts (organization_id, email, name)
        SELECT %(org)s, 'lead' || g || '@d' || (g %% %(domains)s) || '.bulk.example', 'Lead ' || g
        FROM generate_series(1, %(count)s) g
        """,
        {"org": org_id, "count": count, "domains": domains},
    )
    conn.execute(
        "INSERT INTO campaign_contacts (campaign_id, contact_id, status)"
        " SELECT %s, id, 'drafted' FROM contacts WHERE organization_id = %s",
        (campaign_id, org_id),
    )
    conn.execute(
        """
        INSERT INTO outreach_flows (campaign_id, contact_id, sequence_order, status, subject, body, scheduled_send_time)
        SELECT %(campaign)s, c.id, s, 'scheduled', 'Hello ' || c.name, 'A short note for ' || c.name || '.',
               now() - interval '1 minute' + s * interval '1 second'
        FROM contacts c CROSS JOIN generate_series(0, %(last)s) s
        WHERE c.organization_id = %(org)s
        """,
        {"campaign": campaign_id, "org": org_id, "last": steps - 1},
    )
    return org_id, campaign_id


def long_sequences(conn, contacts: int, steps: int, due: int) -> str:
    """A campaign late in its life: `contacts` contacts with `steps` steps each, nine in ten
    long sent and the last scheduled a month ahead, then `due` last steps made due now.
    Returns the campaign's id. Most rows are sent and their send times past, as in production."""
    org = conn.execute(
        "INSERT INTO organizations (org_name, daily_send_cap) VALUES ('Big', 1000000) RETURNING id"
    ).fetchone()[0]
    campaign = conn.execute(
        "INSERT INTO campaigns (organization_id, campaign_name, ai_settings) VALUES (%s, 'Big', %s) RETURNING id",
        (org, '{"daily_cap": 10000}'),
    ).fetchone()[0]
    conn.execute("ALTER TABLE outreach_flows DISABLE TRIGGER USER")
    conn.execute("ALTER TABLE campaign_contacts DISABLE TRIGGER USER")
    conn.execute(
        "INSERT INTO contacts (organization_id, email) SELECT %s, 'c' || g || '@d' || (g %% 5000) || '.example'"
        " FROM generate_series(1, %s) g",
        (org, contacts),
    )
    conn.execute(
        "INSERT INTO campaign_contacts (campaign_id, contact_id, organization_id, status)"
        " SELECT %s, id, organization_id, 'drafted' FROM contacts WHERE organization_id = %s",
        (campaign, org),
    )
    conn.execute(
        """INSERT INTO outreach_flows (campaign_id, contact_id, organization_id, sequence_order, status, subject,
                                       body, scheduled_send_time, sent_at, message_id)
           SELECT %(campaign)s, c.id, c.organization_id, s, CASE WHEN s < %(last)s THEN 'sent' ELSE 'scheduled' END, 'Subject', 'Body',
                  CASE WHEN s < %(last)s THEN now() - interval '30 days' ELSE now() + interval '30 days' END,
                  CASE WHEN s < %(last)s THEN now() - interval '30 days' END,
                  CASE WHEN s < %(last)s THEN '<' || c.id || '.' || s || '@bench>' END
           FROM contacts c CROSS JOIN generate_series(0, %(last)s) s WHERE c.organization_id = %(org)s""",
        {"campaign": campaign, "last": steps - 1, "org": org},
    )
    conn.execute(
        """UPDATE outreach_flows SET scheduled_send_time = now() - interval '1 minute'
           WHERE id IN (SELECT id FROM outreach_flows WHERE campaign_id = %s AND sequence_order = %s LIMIT %s)""",
        (campaign, steps - 1, due),
    )
    conn.execute("ALTER TABLE outreach_flows ENABLE TRIGGER USER")
    conn.execute("ALTER TABLE campaign_contacts ENABLE TRIGGER USER")
    conn.execute("ANALYZE")
    return str(campaign)


def inbound_mail(flows: list[tuple[str, str]], count: int) -> list[bytes]:
    """Mail as it comes back to a mailbox, for (Message-ID, address) pairs of messages it sent:
    one in ten a reply, one in fifty an RFC 3464 bounce report, one in twenty an automatic
    reply, the rest newsletters."""
    out = []
    for i in range(count):
        message_id, address = flows[i % len(flows)]
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
                f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                # The returned headers quote the message that failed, as real reports do (and as
                # sync_mailboxes requires before it believes one).
                f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\n--B--\r\n"
            )
        elif i % 20 == 2:
            head = (
                f"From: <{address}>\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n"
                f"In-Reply-To: {message_id}\r\n"
            )
            body = "I am away until 7 January.\r\n"
        else:
            head = f"From: news{i}@list.example\r\nSubject: November news {i}\r\nList-Id: <news.list.example>\r\n"
            body = "Our news this month. " * 40 + "\r\n"
        if "Content-Type" not in head:
            head += "Content-Type: text/plain; charset=utf-8\r\n"
        own = f"<{secrets.token_hex(8)}@greenleaf.example>"
        date = format_datetime(datetime.now(UTC))
        out.append(f"{head}To: box@team.example\r\nDate: {date}\r\nMessage-ID: {own}\r\n\r\n{body}".encode())
    return out


def sent_through_mailbox(conn, mailbox_id, campaign_id) -> list[tuple[str, str]]:
    """Marks the campaign's first messages sent from the mailbox; returns (Message-ID, address)."""
    return conn.execute(
        "UPDATE outreach_flows SET status = 'sent', sent_at = now(), mailbox_id = %s,"
        " message_id = '<' || id || '@team.example>' WHERE campaign_id = %s AND sequence_order = 0"
        " RETURNING message_id, (SELECT email FROM contacts WHERE id = contact_id)",
        (mailbox_id, campaign_id),
    ).fetchall()
