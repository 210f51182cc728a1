"""One function under a realistic batch, in this process; prints its peak RSS as JSON."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid

import jwt
import psycopg

from bench.common import ROOT, peak_rss_mb


def client(fn: str):
    import functions_framework

    app = functions_framework.create_app(target=fn, source=str(ROOT / "functions" / fn / "main.py"))
    return app.test_client()


def main(fn: str) -> None:
    url = os.environ["DATABASE_URL"]
    secret = {"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]}
    with psycopg.connect(url, autocommit=True) as conn:
        org = conn.execute("INSERT INTO organizations (org_name) VALUES ('Mem') RETURNING id").fetchone()[0]
        user = uuid.uuid4()
        conn.execute("INSERT INTO auth.users (id) VALUES (%s)", (user,))
        conn.execute(
            "INSERT INTO organization_members (organization_id, user_id) VALUES (%s, %s)", (org, user)
        )
    c = client(fn)
    if fn == "create_campaign":
        os.environ["SUPABASE_JWT_SECRET"] = "bench-jwt-secret-0123456789abcdef"
        from shared.core.config import get_settings

        get_settings.cache_clear()
        token = jwt.encode(
            {"sub": str(user), "aud": "authenticated", "exp": int(time.time()) + 600},
            "bench-jwt-secret-0123456789abcdef",
            algorithm="HS256",
        )
        for i in range(200):
            c.post(
                "/",
                json={
                    "organization_id": str(org),
                    "campaign_name": f"C{i}",
                    "search_queries": [f"query {i} {j}" for j in range(20)],
                },
                headers={"Authorization": f"Bearer {token}"},
            )
        batch = "200 campaigns of 20 search tasks"
    elif fn in ("run_search", "scrape_url"):
        from local.fixture_site import FixtureSites

        sites = FixtureSites().start()
        os.environ.update(
            {
                "FIXTURE_SITE_URLS": ",".join(sites.urls),
                "ALLOW_PRIVATE_NETWORK": "true",
                "DRAIN_GRACE_SECONDS": "0",
            }
        )
        from shared.core.config import get_settings

        get_settings.cache_clear()
        with psycopg.connect(url, autocommit=True) as conn:
            camp = conn.execute(
                "INSERT INTO campaigns (organization_id, campaign_name) VALUES (%s, 'M') RETURNING id", (org,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO search_tasks (campaign_id, search_query) SELECT %s, 'q' || g"
                " FROM generate_series(1, 50) g",
                (camp,),
            )
        for _ in range(3):
            client("run_search").post("/", json={"drain": True, "limit": 50}, headers=secret)
        if fn == "scrape_url":
            for _ in range(4):
                c.post("/", json={"drain": True, "limit": 50}, headers=secret)
            batch = "150 sites of the fixture website (3 pages each)"
        else:
            batch = "50 search tasks"
        sites.stop()
    elif fn == "draft_message":
        os.environ["DRAIN_GRACE_SECONDS"] = "0"
        from shared.core.config import get_settings

        get_settings.cache_clear()
        with psycopg.connect(url, autocommit=True) as conn:
            camp = conn.execute(
                "INSERT INTO campaigns (organization_id, campaign_name) VALUES (%s, 'M') RETURNING id", (org,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO contacts (organization_id, email) SELECT %s, 'd' || g || '@s' || g || '.com'"
                " FROM generate_series(1, 300) g",
                (org,),
            )
            conn.execute(
                "INSERT INTO campaign_contacts (campaign_id, contact_id) SELECT %s, id FROM contacts"
                " WHERE organization_id = %s",
                (camp, org),
            )
        for _ in range(6):
            c.post("/", json={"drain": True, "limit": 50}, headers=secret)
        batch = "300 sequences, template drafter"
    elif fn == "send_due":
        from tests.acceptance.bulk import due_messages

        os.environ.update({"SEND_RATE_PER_SECOND": "0", "SEND_DOMAIN_SPACING_SECONDS": "0"})
        from shared.core.config import get_settings

        get_settings.cache_clear()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE outreach_flows SET status = 'canceled' WHERE status = 'scheduled'")
            due_messages(conn, 1000)
        for _ in range(5):
            c.post("/", json={"limit": 200}, headers=secret)
        batch = "1,000 messages to the file outbox"
    elif fn == "deliver_events":
        from shared.core.config import get_settings
        from tests.helpers import http_server

        os.environ["ALLOW_PRIVATE_NETWORK"] = "true"
        get_settings.cache_clear()

        def accept(handler):
            handler.rfile.read(int(handler.headers["Content-Length"]))
            return 200, {}, b""

        with http_server(accept) as base, psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE webhook_endpoints SET active = false")
            conn.execute(
                "SELECT * FROM public.add_webhook(%s, %s, %s)", (org, f"{base}/", ["reply.received"])
            )
            conn.execute(
                "INSERT INTO inbound_messages (organization_id, kind, snippet, fingerprint)"
                " SELECT %s, 'reply', 'Thanks, tell me more.', gen_random_uuid()::text FROM generate_series(1, 1000)",
                (org,),
            )
            c.post("/", json={}, headers=secret)
        batch = "1,000 signed webhooks to a loopback endpoint"
    else:
        from shared.inbound import tokens

        with psycopg.connect(url, autocommit=True) as conn:
            camp = conn.execute(
                "INSERT INTO campaigns (organization_id, campaign_name) VALUES (%s, 'M') RETURNING id", (org,)
            ).fetchone()[0]
            contact = conn.execute(
                "INSERT INTO contacts (organization_id, email) VALUES (%s, 'u@u.com') RETURNING id", (org,)
            ).fetchone()[0]
            flow = conn.execute(
                "INSERT INTO outreach_flows (campaign_id, contact_id, status) VALUES (%s, %s, 'sent')"
                " RETURNING id",
                (camp, contact),
            ).fetchone()[0]
        token = tokens.issue(flow)
        for _ in range(200):
            c.get(f"/?token={token}")
            c.post(
                f"/?token={token}",
                data="List-Unsubscribe=One-Click",
                content_type="application/x-www-form-urlencoded",
            )
        batch = "200 page views and 200 one-click posts"
    print(json.dumps({"batch": batch, "rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main(sys.argv[1])
