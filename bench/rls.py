"""Row level security at scale: a member's common reads through the Data API against the same
statements run by the tables' owner (no row level security), in the same run, at 1,000,000 and
10,000,000 outreach_flows (BENCH_RLS_SIZES to choose). One organization holds 100 campaigns and
every row measured; a second organization holds a tenth as much, so the filters have something
to leave out. The statements carry the organization or campaign filter a dashboard sends, so
the member's and the owner's answers are the same rows and the difference is the policies' cost.

Baseline in the same run: the policies before migration 20261125001300 (a SECURITY DEFINER
function call per row), put back in a transaction that is rolled back.

campaign_stats reads a rollup (migrations 20261204000300 and 20261204001100): after the load, the
scheduler's refresh tallies every row (timed: the first refresh's cost), then LIVE_FLOWS messages,
a third as many campaign contacts and a hundredth as many contacts' opt-outs change, as in a
minute of sending, so each read also counts rows changed since the refresh. The overview's
answer (messages per status, opted-out enrollments) is checked against a count(*) of the rows.

send_due's CPU per message, with the stats' change stamp and index and without them (the
triggers and indexes of before 20261204000300 put back), in the same run: SEND_ROWS messages each."""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
from pathlib import Path

import psycopg

from bench.common import ROOT, fresh_database, progress

SIZES = [int(s) for s in os.environ.get("BENCH_RLS_SIZES", "1000000,10000000").split(",")]
CAMPAIGNS = 100
STEPS = 3
REPEAT = 5
LIVE_FLOWS = int(os.environ.get("BENCH_RLS_LIVE", "3000"))
SEND_ROWS = int(os.environ.get("BENCH_RLS_SEND_ROWS", "4000"))

QUERIES = {
    "one campaign's stats": "SELECT * FROM campaign_stats WHERE campaign_id = %(campaign)s",
    "overview of 100 campaigns": "SELECT * FROM campaign_stats WHERE organization_id = %(org)s",
    "a campaign's drafts (50)": (
        "SELECT id, contact_id, subject, body FROM outreach_flows"
        " WHERE campaign_id = %(campaign)s AND status = 'draft' ORDER BY scheduled_send_time LIMIT 50"
    ),
    "replies and opt-outs (100)": (
        "SELECT id, email, reached_status FROM contacts WHERE organization_id = %(org)s"
        " AND reached_status IN ('responded', 'unsubscribed', 'bounced', 'complained') LIMIT 100"
    ),
    "a campaign's unsubscribes": "SELECT * FROM campaign_unsubscribes WHERE campaign_id = %(campaign)s",
    "contact list (100 newest)": (
        "SELECT id, email, name FROM contacts WHERE organization_id = %(org)s ORDER BY created_at DESC LIMIT 100"
    ),
}

LOAD = """
SET session_replication_role = replica;  -- bulk load: the organization triggers' work is done here
INSERT INTO organizations (id, org_name) VALUES (%(org)s, 'Measured'), (%(other)s, 'Other');
INSERT INTO campaigns (id, organization_id, campaign_name)
SELECT gen_random_uuid(), o.id, 'Campaign ' || i
FROM (VALUES (%(org)s::uuid, %(campaigns)s::int), (%(other)s::uuid, 10)) o (id, n), generate_series(1, o.n) i;
CREATE TEMP TABLE numbered AS
SELECT id, organization_id, row_number() OVER (PARTITION BY organization_id ORDER BY id) - 1 AS k,
       count(*) OVER (PARTITION BY organization_id) AS n
FROM campaigns;
INSERT INTO contacts (organization_id, email, reached_status, unsubscribe_requested, created_at)
SELECT o.id, 'p' || i || '@' || o.tag || (i %% 5000) || '.example',
       CASE WHEN i %% 50 = 0 THEN 'responded' WHEN i %% 97 = 0 THEN 'unsubscribed' WHEN i %% 89 = 0 THEN 'bounced'
            ELSE 'pending' END,
       i %% 50 <> 0 AND i %% 97 = 0, now() - make_interval(secs => i)
FROM (VALUES (%(org)s::uuid, 'm', %(contacts)s::int), (%(other)s::uuid, 'o', %(contacts)s / 10)) o (id, tag, n),
     generate_series(1, o.n) i;
-- With the contact's state, which the trigger copies outside a bulk load.
INSERT INTO campaign_contacts (campaign_id, contact_id, organization_id, status, contact_reached_status,
                               contact_unsubscribe_requested)
SELECT c.id, ct.id, ct.organization_id, 'drafted', ct.reached_status, ct.unsubscribe_requested
FROM (SELECT id, organization_id, reached_status, unsubscribe_requested,
             row_number() OVER (PARTITION BY organization_id ORDER BY id) AS r FROM contacts) ct
JOIN numbered c ON c.organization_id = ct.organization_id AND c.k = ct.r %% c.n;
INSERT INTO outreach_flows (campaign_id, contact_id, organization_id, sequence_order, status, subject, body,
                            scheduled_send_time, sent_at)
SELECT cc.campaign_id, cc.contact_id, cc.organization_id, s,
       CASE WHEN s = 0 THEN (ARRAY['sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'draft', 'failed', 'canceled', 'scheduled'])[1 + (hashtext(cc.contact_id::text) & 7)]
            WHEN s = 1 THEN (ARRAY['sent', 'sent', 'scheduled', 'draft', 'canceled', 'scheduled', 'sent', 'scheduled'])[1 + (hashtext(cc.contact_id::text) & 7)]
            ELSE (ARRAY['scheduled', 'draft', 'scheduled', 'canceled', 'scheduled', 'scheduled', 'draft', 'scheduled'])[1 + (hashtext(cc.contact_id::text) & 7)] END,
       'Subject ' || s, 'A short body.', now() + make_interval(days => s * 3), NULL
FROM campaign_contacts cc, generate_series(0, %(steps)s - 1) s;
INSERT INTO campaign_unsubscribes (campaign_id, contact_id, organization_id)
SELECT cc.campaign_id, cc.contact_id, cc.organization_id FROM campaign_contacts cc
JOIN contacts ct ON ct.id = cc.contact_id WHERE ct.reached_status = 'unsubscribed';
SET session_replication_role = origin;
"""

# The policies before migration 20261125001300, for the baseline.
OLD_POLICIES = """
CREATE FUNCTION public.is_org_member(org uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT EXISTS (SELECT 1 FROM public.organization_members m WHERE m.organization_id = org AND m.user_id = auth.uid())
$$;
CREATE FUNCTION public.campaign_org(campaign uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT organization_id FROM public.campaigns WHERE id = campaign
$$;
GRANT EXECUTE ON FUNCTION public.is_org_member(uuid), public.campaign_org(uuid) TO authenticated;
DO $$
DECLARE p record;
BEGIN
  FOR p IN SELECT policyname, tablename FROM pg_policies WHERE schemaname = 'public' AND cmd = 'SELECT' LOOP
    EXECUTE format('DROP POLICY %I ON public.%I', p.policyname, p.tablename);
  END LOOP;
END $$;
CREATE POLICY old ON public.campaigns FOR SELECT TO authenticated USING (public.is_org_member(organization_id));
CREATE POLICY old ON public.contacts FOR SELECT TO authenticated USING (public.is_org_member(organization_id));
CREATE POLICY old ON public.search_tasks FOR SELECT TO authenticated USING (public.is_org_member(public.campaign_org(campaign_id)));
CREATE POLICY old ON public.scrape_results FOR SELECT TO authenticated USING (public.is_org_member(organization_id));
CREATE POLICY old ON public.campaign_contacts FOR SELECT TO authenticated USING (public.is_org_member(public.campaign_org(campaign_id)));
CREATE POLICY old ON public.outreach_flows FOR SELECT TO authenticated USING (public.is_org_member(public.campaign_org(campaign_id)));
CREATE POLICY old ON public.campaign_unsubscribes FOR SELECT TO authenticated USING (public.is_org_member(public.campaign_org(campaign_id)));
"""


def timed(conn, sql: str, params: dict, user: str | None, setup: str = "") -> tuple[float, int]:
    """Median of REPEAT runs in ms, each in its own transaction, rolled back; and the row count."""
    times, rows = [], 0
    for _ in range(REPEAT):
        with conn.transaction(force_rollback=True):
            if setup:
                conn.execute(setup)
            if user:
                claims = json.dumps({"sub": user, "role": "authenticated", "aud": "authenticated"})
                conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
                conn.execute("SET LOCAL ROLE authenticated")
            started = time.perf_counter()
            rows = len(conn.execute(sql, params).fetchall())
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, rows


def measure(size: int) -> dict:
    contacts = size // STEPS
    with fresh_database() as url, psycopg.connect(url, autocommit=True) as conn:
        org, other, user = (conn.execute("SELECT gen_random_uuid()").fetchone()[0] for _ in range(3))
        progress(f"rls: loading {size:,} outreach_flows ({contacts:,} contacts, {CAMPAIGNS} campaigns)")
        started = time.perf_counter()
        with psycopg.ClientCursor(conn) as cur:  # several statements with parameters
            cur.execute(
                LOAD,
                {"org": org, "other": other, "campaigns": CAMPAIGNS, "contacts": contacts, "steps": STEPS},
            )
        conn.execute("INSERT INTO auth.users (id) VALUES (%s)", (user,))
        conn.execute(
            "INSERT INTO organization_members (organization_id, user_id, role) VALUES (%s, %s, 'member')",
            (org, user),
        )
        conn.execute("VACUUM ANALYZE")
        load_s = time.perf_counter() - started
        progress(f"rls: first refresh of the stats' rollup over {size:,} rows")
        started = time.perf_counter()
        conn.execute("SELECT private.refresh_campaign_stats()")
        refresh_s = time.perf_counter() - started
        conn.execute("VACUUM ANALYZE")
        live = change_a_minute(conn, org)
        started = time.perf_counter()
        conn.execute("SELECT private.refresh_campaign_stats()")
        minute_refresh_ms = (time.perf_counter() - started) * 1000
        live = change_a_minute(conn, org)  # and another minute, left for the reads to count live
        flows = conn.execute("SELECT count(*) FROM outreach_flows").fetchone()[0]
        campaign = conn.execute(
            "SELECT id FROM campaigns WHERE organization_id = %s ORDER BY id LIMIT 1", (org,)
        ).fetchone()[0]
        params = {"org": org, "campaign": campaign}
        results = {}
        for name, sql in QUERIES.items():
            progress(f"rls: {size:,} rows, {name}")
            owner_ms, owner_rows = timed(conn, sql, params, None)
            member_ms, member_rows = timed(conn, sql, params, str(user))
            assert member_rows == owner_rows, (name, member_rows, owner_rows)
            if name == "overview of 100 campaigns":
                assert_exact(conn, org)
            entry = {"owner": owner_ms, "member": member_ms, "rows": owner_rows}
            if name == "one campaign's stats":
                entry["old"] = timed(conn, sql, params, str(user), OLD_POLICIES)[0]
            results[name] = entry
        with conn.transaction(force_rollback=True):
            claims = json.dumps({"sub": str(user), "role": "authenticated"})
            conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
            conn.execute("SET LOCAL ROLE authenticated")
            plan = "\n".join(
                r[0] for r in conn.execute("EXPLAIN (VERBOSE) " + QUERIES["a campaign's drafts (50)"], params)
            )
    filters = [line.strip() for line in plan.splitlines() if "Filter:" in line and "organization_id" in line]
    return {
        "size": size,
        "flows": flows,
        "load_s": load_s,
        "refresh_s": refresh_s,
        "minute_refresh_ms": minute_refresh_ms,
        "live": live,
        "queries": results,
        "policy_filter": filters[0] if filters else "(none)",
        "init_plan": "InitPlan" in plan,
    }


def change_a_minute(conn, org) -> int:
    """LIVE_FLOWS scheduled messages sent, a third as many contacts drafted again, and a hundredth
    as many contacts asking to be written to no more (their state copied to their enrollments)."""
    sent = conn.execute(
        "UPDATE outreach_flows SET status = 'sent', sent_at = now() WHERE id IN (SELECT id FROM outreach_flows"
        " WHERE organization_id = %s AND status = 'scheduled' LIMIT %s)",
        (org, LIVE_FLOWS),
    ).rowcount
    conn.execute(
        "UPDATE campaign_contacts SET status = 'failed', prompt_tokens = prompt_tokens + 1"
        " WHERE (campaign_id, contact_id) IN (SELECT campaign_id, contact_id FROM campaign_contacts"
        " WHERE organization_id = %s AND status = 'drafted' LIMIT %s)",
        (org, LIVE_FLOWS // 3),
    )
    conn.execute(
        "UPDATE contacts SET unsubscribe_requested = true WHERE id IN (SELECT id FROM contacts"
        " WHERE organization_id = %s AND NOT unsubscribe_requested LIMIT %s)",
        (org, LIVE_FLOWS // 100),
    )
    return sent


def assert_exact(conn, org) -> None:
    """The overview's messages per status and opted-out enrollments, against a count(*)."""
    stats = {
        campaign: (flows, tuple(opted_out))
        for campaign, flows, *opted_out in conn.execute(
            "SELECT campaign_id, outreach_flows, unsubscribed_everywhere, bounced_or_complained, complaints"
            " FROM campaign_stats WHERE organization_id = %s",
            (org,),
        )
    }
    flows: dict = {}
    for campaign, status, n in conn.execute(
        "SELECT campaign_id, status, count(*) FROM outreach_flows WHERE organization_id = %s GROUP BY 1, 2",
        (org,),
    ):
        flows.setdefault(campaign, {})[status] = n
    opted_out = {
        campaign: tuple(n)
        for campaign, *n in conn.execute(
            "SELECT x.campaign_id, count(*) FILTER (WHERE ct.unsubscribe_requested),"
            " count(*) FILTER (WHERE ct.reached_status IN ('bounced', 'complained')),"
            " count(*) FILTER (WHERE ct.reached_status = 'complained')"
            " FROM campaign_contacts x JOIN contacts ct ON ct.id = x.contact_id WHERE x.organization_id = %s"
            " GROUP BY 1",
            (org,),
        )
    }
    counted = {c: (flows.get(c, {}), opted_out.get(c, (0, 0, 0))) for c in stats}
    assert stats == counted, "campaign_stats differs from a count(*)"


# What send_due's path had before 20261204000300: updated_at's trigger, no change stamp or index.
WITHOUT_STAMP = """
DROP INDEX outreach_flows_change_idx, campaign_contacts_change_idx;
DROP TRIGGER outreach_flows_stamp_change ON outreach_flows;
DROP TRIGGER campaign_contacts_stamp_change ON campaign_contacts;
DROP TRIGGER outreach_flows_forget_tallied ON outreach_flows;
DROP TRIGGER campaign_contacts_forget_tallied ON campaign_contacts;
ALTER TABLE outreach_flows ALTER COLUMN change_xid DROP DEFAULT;
ALTER TABLE campaign_contacts ALTER COLUMN change_xid DROP DEFAULT;
CREATE TRIGGER outreach_flows_updated_at BEFORE UPDATE ON outreach_flows FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER campaign_contacts_updated_at BEFORE UPDATE ON campaign_contacts FOR EACH ROW EXECUTE FUNCTION set_updated_at();
"""


def server_cpu() -> float:
    """CPU seconds of the benchmark's PostgreSQL: the postmaster and every backend it has reaped
    (not the machine's other processes, which /proc/stat would count)."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return 0.0  # another server: its processes are not ours to read
    pid = (ROOT / ".data" / "pgbench" / "postmaster.pid").read_text().split()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def send_cpu() -> dict:
    """send_due's CPU per message (its process and PostgreSQL's), without and with the stamp,
    alternated twice; the lower of each pair of runs. Each run's connections are closed before
    the server's CPU is read, so its backends have been reaped and counted."""
    from bench.sending import project
    from tests.acceptance.bulk import due_messages
    from tests.mailserver import MailServer

    found: dict[str, list[float]] = {"before": [], "after": []}
    for variant in ("before", "after", "before", "after"):
        with fresh_database() as url:
            with psycopg.connect(url, autocommit=True) as conn:
                if variant == "before":
                    conn.execute(WITHOUT_STAMP)
                due_messages(conn, SEND_ROWS)
            with MailServer() as server:
                progress(
                    f"rls: send_due CPU per message, {variant} the stats' change stamp, {SEND_ROWS} rows"
                )
                client = resource.getrusage(resource.RUSAGE_CHILDREN)
                server_before = server_cpu()
                project(server.url, 1)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                assert len(server.recorder.message_ids()) == SEND_ROWS
            time.sleep(1)  # the backends' exit, reaped by the postmaster
            used = after.ru_utime + after.ru_stime - client.ru_utime - client.ru_stime
            used += server_cpu() - server_before
        found[variant].append(used * 1000 / SEND_ROWS)
    return {k: min(v) for k, v in found.items()}


def run() -> dict:
    return {"runs": [measure(size) for size in SIZES], "send_cpu": send_cpu()}


def table(r: dict) -> str:
    lines = [
        "| outreach_flows | read | rows | owner | member | member / owner |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for run_ in r["runs"]:
        for name, q in run_["queries"].items():
            lines.append(
                f"| {run_['flows']:,} | {name} | {q['rows']:,} | {q['owner']:,.1f} ms | {q['member']:,.1f} ms"
                f" | **{q['member'] / q['owner']:.2f}** |"
            )
    lines += [
        "",
        "| outreach_flows | one campaign's stats as a member, policies before 20261125001300 | now | load |",
        "|---:|---:|---:|---:|",
    ]
    for run_ in r["runs"]:
        q = run_["queries"]["one campaign's stats"]
        lines.append(
            f"| {run_['flows']:,} | {q['old']:,.0f} ms | {q['member']:,.1f} ms | {run_['load_s']:.0f} s |"
        )
    lines += [
        "",
        "| outreach_flows | first refresh (every row tallied) | refresh after a minute of sending | rows read live by each read |",
        "|---:|---:|---:|---:|",
    ]
    for run_ in r["runs"]:
        lines.append(
            f"| {run_['flows']:,} | {run_['refresh_s']:.0f} s | {run_['minute_refresh_ms']:,.0f} ms"
            f" | {run_['live']:,} messages, {run_['live'] // 3:,} campaign contacts,"
            f" {run_['live'] // 100:,} contacts' opt-outs |"
        )
    cpu = r["send_cpu"]
    lines += [
        "",
        f"send_due's CPU per message ({SEND_ROWS:,} messages, client and PostgreSQL, the lower of two runs each):"
        f" **{cpu['before']:.2f} ms** without the change stamp and its index, **{cpu['after']:.2f} ms** with them"
        f" ({(cpu['after'] / cpu['before'] - 1) * 100:+.0f} %).",
    ]
    last = r["runs"][-1]
    lines += [
        "",
        f"EXPLAIN (VERBOSE) of a campaign's drafts as a member: init plan {'yes' if last['init_plan'] else 'no'};"
        f" the policy's filter: `{last['policy_filter']}` (no function call per row).",
    ]
    return "\n".join(lines)
