"""The console at volume: each view's first answer as a member, through the function itself
(JWT verified, statements run as the person under row level security, JSON written), with
1,000,000 outreach_flows in the organization (BENCH_CONSOLE_FLOWS), 10,000 of them drafts, and
a reply from one contact in twenty. A second organization holds a tenth as much, so the
policies have something to leave out. "first" is the first call after loading (a cold start of
each statement); "median" is of the REPEAT calls after it."""

from __future__ import annotations

import os
import statistics
import time
import uuid

import jwt
import psycopg

from bench.common import fresh_database, progress

FLOWS = int(os.environ.get("BENCH_CONSOLE_FLOWS", "1000000"))
DRAFTS = 10_000
CAMPAIGNS = 20
STEPS = 3
REPEAT = 5

LOAD = """
SET session_replication_role = replica;  -- bulk load: the organization triggers' work is done here
INSERT INTO organizations (id, org_name) VALUES (%(org)s, 'Measured'), (%(other)s, 'Other');
INSERT INTO campaigns (id, organization_id, campaign_name)
SELECT gen_random_uuid(), o.id, 'Campaign ' || i
FROM (VALUES (%(org)s::uuid, %(campaigns)s::int), (%(other)s::uuid, 4)) o (id, n), generate_series(1, o.n) i;
CREATE TEMP TABLE numbered AS
SELECT id, organization_id, row_number() OVER (PARTITION BY organization_id ORDER BY id) - 1 AS k,
       count(*) OVER (PARTITION BY organization_id) AS n
FROM campaigns;
INSERT INTO mailboxes (organization_id, email, smtp_endpoint, smtp_secret_id, daily_cap)
SELECT %(org)s, 'sender' || i || '@measured.example', 'smtps://sender@smtp.example:465', gen_random_uuid(), 200
FROM generate_series(1, 3) i;
INSERT INTO contacts (organization_id, email, name, reached_status, created_at)
SELECT o.id, 'p' || i || '@' || o.tag || (i %% 5000) || '.example', 'Person ' || i,
       CASE WHEN i %% 20 = 0 THEN 'responded' WHEN i %% 97 = 0 THEN 'unsubscribed' ELSE 'pending' END,
       now() - make_interval(secs => i)
FROM (VALUES (%(org)s::uuid, 'm', %(contacts)s::int), (%(other)s::uuid, 'o', %(contacts)s / 10)) o (id, tag, n),
     generate_series(1, o.n) i;
-- With the contact's state, which the trigger copies outside a bulk load.
INSERT INTO campaign_contacts (campaign_id, contact_id, organization_id, status, contact_reached_status)
SELECT c.id, ct.id, ct.organization_id, 'drafted', ct.reached_status
FROM (SELECT id, organization_id, reached_status, row_number() OVER (PARTITION BY organization_id ORDER BY id) AS r
      FROM contacts) ct
JOIN numbered c ON c.organization_id = ct.organization_id AND c.k = ct.r %% c.n;
INSERT INTO outreach_flows (campaign_id, contact_id, organization_id, sequence_order, status, subject, body,
                            scheduled_send_time, sent_at, mailbox_id, created_at)
SELECT cc.campaign_id, cc.contact_id, cc.organization_id, s,
       (ARRAY['sent', 'sent', 'sent', 'scheduled', 'canceled', 'sent', 'failed', 'scheduled'])[1 + (hashtext(cc.contact_id::text || s) & 7)],
       'Subject ' || s, 'A short body of a few lines.', now() + make_interval(days => s * 3),
       now() - make_interval(hours => (hashtext(cc.contact_id::text) & 8191)),
       (SELECT id FROM mailboxes WHERE organization_id = cc.organization_id
        ORDER BY email OFFSET (hashtext(cc.contact_id::text) & 1) LIMIT 1),
       now() - make_interval(secs => (hashtext(cc.contact_id::text || s) & 16777215))
FROM campaign_contacts cc, generate_series(0, %(steps)s - 1) s;
UPDATE outreach_flows SET status = 'draft', sent_at = NULL
WHERE id IN (SELECT id FROM outreach_flows WHERE organization_id = %(org)s AND status = 'scheduled' LIMIT %(drafts)s);
INSERT INTO inbound_messages (organization_id, contact_id, campaign_id, kind, from_address, subject, snippet,
                              received_at, fingerprint, intent, intent_confidence, needs_review)
SELECT a.organization_id, a.contact_id, a.campaign_id, CASE WHEN a.r < 0.1 THEN 'stop_request' ELSE 'reply' END,
       a.email, 'Re: Subject 0', 'Thanks, tell me more.', now() - make_interval(secs => (hashtext(a.email) & 16777215)),
       a.contact_id::text,
       -- the intents in rough proportion: a referral is one answer in thirty
       CASE WHEN a.r < 0.1 THEN 'unsubscribe' WHEN a.r < 0.4 THEN 'interested' WHEN a.r < 0.55 THEN 'question'
            WHEN a.r < 0.7 THEN 'not_now' WHEN a.r < 0.82 THEN 'not_interested' WHEN a.r < 0.9 THEN 'meeting_request'
            WHEN a.r < 0.93 THEN 'referral' WHEN a.r < 0.95 THEN 'wrong_person' WHEN a.r < 0.98 THEN 'auto_reply'
            ELSE 'other' END,
       0.9, a.r >= 0.98
FROM (SELECT cc.organization_id, cc.contact_id, cc.campaign_id, ct.email, random() AS r
      FROM campaign_contacts cc JOIN contacts ct ON ct.id = cc.contact_id WHERE ct.reached_status = 'responded') a;
-- Messages the mailbox reader set aside: a few hundred, the inbox shows the newest 50.
INSERT INTO inbound_quarantine (organization_id, mailbox_id, uidvalidity, uid, problem, reason, from_address, subject,
                                created_at)
SELECT m.organization_id, m.id, 1, i, 'unverified', 'a reply from someone who is not the contact',
       'someone' || i || '@elsewhere.example', 'Re: Subject 0', now() - make_interval(mins => i)
FROM mailboxes m, generate_series(1, 100) i WHERE m.organization_id = %(org)s;
SET session_replication_role = origin;
"""


def views(org: uuid.UUID, campaign: uuid.UUID, contact: uuid.UUID, message: uuid.UUID) -> dict[str, str]:
    return {
        "me (organizations and role)": "/api/me",
        "campaigns (the list of 20)": f"/api/campaigns?org={org}",
        "one campaign's figures (50,000 messages)": f"/api/campaigns/{campaign}/figures",
        "one campaign: per step and mailbox": f"/api/campaigns/{campaign}",
        "review queue (first 50 of 10,000 drafts)": f"/api/drafts?org={org}",
        "inbox (50 newest answers)": f"/api/inbox?org={org}",
        "inbox filtered (referrals, 3% of answers)": f"/api/inbox?org={org}&intent=referral",
        "a conversation": f"/api/inbox/{message}/thread",
        "mailboxes (today's count, sending domain)": f"/api/mailboxes?org={org}",
        "mailboxes' complaint rates (30 days of mail)": f"/api/mailboxes/complaints?org={org}",
        "contacts (50 newest)": f"/api/contacts?org={org}",
        "contact search (prefix)": f"/api/contacts?org={org}&q=person 12",
        "everything held about a contact": f"/api/contacts/{contact}",
    }


def run() -> dict:
    import functions_framework

    from bench.common import ROOT

    os.environ.setdefault("SUPABASE_JWT_SECRET", "bench-jwt-secret-" + "x" * 24)
    contacts = FLOWS // STEPS
    with fresh_database() as url, psycopg.connect(url, autocommit=True) as conn:
        org, other, user = (uuid.uuid4() for _ in range(3))
        progress(f"console: loading {FLOWS:,} outreach_flows ({contacts:,} contacts, {DRAFTS:,} drafts)")
        started = time.perf_counter()
        with psycopg.ClientCursor(conn) as cur:
            cur.execute(
                LOAD,
                {
                    "org": org,
                    "other": other,
                    "campaigns": CAMPAIGNS,
                    "contacts": contacts,
                    "steps": STEPS,
                    "drafts": DRAFTS,
                },
            )
        conn.execute("INSERT INTO auth.users (id) VALUES (%s)", (user,))
        conn.execute(
            "INSERT INTO organization_members (organization_id, user_id, role) VALUES (%s, %s, 'member')",
            (org, user),
        )
        conn.execute("VACUUM ANALYZE")
        # What the scheduler does after each sync_mailboxes run: campaign figures read the rollup
        # plus the rows changed since.
        conn.execute("SELECT private.refresh_campaign_stats()")
        conn.execute("VACUUM ANALYZE")
        load_s = time.perf_counter() - started
        counts = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'draft') FROM outreach_flows WHERE organization_id = %s",
            (org,),
        ).fetchone()
        replies = conn.execute(
            "SELECT count(*) FROM inbound_messages WHERE organization_id = %s", (org,)
        ).fetchone()[0]
        campaign = conn.execute(
            "SELECT id FROM campaigns WHERE organization_id = %s LIMIT 1", (org,)
        ).fetchone()[0]
        contact, message = conn.execute(
            "SELECT contact_id, id FROM inbound_messages WHERE organization_id = %s LIMIT 1", (org,)
        ).fetchone()

        app = functions_framework.create_app(
            target="console", source=str(ROOT / "functions" / "console" / "main.py")
        )
        client = app.test_client()
        token = jwt.encode(
            {
                "sub": str(user),
                "aud": "authenticated",
                "role": "authenticated",
                "exp": int(time.time()) + 3600,
            },
            os.environ["SUPABASE_JWT_SECRET"],
            algorithm="HS256",
        )
        headers = {"Authorization": f"Bearer {token}"}
        results = {}
        for name, path in views(org, campaign, contact, message).items():
            progress(f"console: {name}")
            times = []
            for _ in range(REPEAT + 1):
                begun = time.perf_counter()
                answer = client.get(path, headers=headers)
                times.append((time.perf_counter() - begun) * 1000)
                assert answer.status_code == 200, (
                    path,
                    answer.status_code,
                    answer.get_data(as_text=True)[:300],
                )
            body = answer.get_json()
            rows = next((len(v) for v in body.values() if isinstance(v, list)), 1)
            results[name] = {"first": times[0], "median": statistics.median(times[1:]), "rows": rows}
    return {"flows": counts[0], "drafts": counts[1], "replies": replies, "load_s": load_s, "views": results}


def table(r: dict) -> str:
    lines = [
        f"{r['flows']:,} outreach_flows in the organization ({r['drafts']:,} drafts), {r['replies']:,} answers in"
        f" its inbox; loaded in {r['load_s']:.0f} s. Each view through the function as a member: token verified,"
        " statements under row level security, JSON written.",
        "",
        "| view | rows | first answer | median of 5 after |",
        "|---|---:|---:|---:|",
    ]
    for name, v in r["views"].items():
        lines.append(f"| {name} | {v['rows']:,} | {v['first']:,.1f} ms | {v['median']:,.1f} ms |")
    return "\n".join(lines)
