"""The console's endpoints, through the real functions-framework app, as a signed-in person:
every statement runs under their grants and row level security, and the database's answer is
what they see (a member's admin action is refused by the database)."""

from __future__ import annotations

import pytest

from tests import console_data
from tests.helpers import function_client, user_token


@pytest.fixture
def world(conn):
    return console_data.build(conn)


@pytest.fixture(scope="module")
def client():
    return function_client("console")


def call(client, user, method, path, **kwargs):
    headers = {"Authorization": f"Bearer {user_token(user)}"}
    return getattr(client, method)(path, headers=headers, **kwargs)


def status_of(conn, flow_id):
    return conn.execute("SELECT status FROM outreach_flows WHERE id = %s", (flow_id,)).fetchone()[0]


def test_the_page_and_its_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and b'<script type="module" src="assets/app.js">' in page.data
    policy = page.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    )
    script = client.get("/assets/app.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert client.get("/assets/vendor/htm-preact-standalone.module.js").status_code == 200
    for path in ("/assets/../console.sql", "/assets/%2e%2e/routes.py", "/assets/nothing.js"):
        assert client.get(path).status_code == 404, path
    refused = client.get("/api/me")
    assert refused.status_code == 401 and "Content-Security-Policy" in refused.headers


def test_a_person_sees_their_own_organizations_only(client, world):
    me = call(client, world.member, "get", "/api/me").json
    assert [(o["org_name"], o["role"]) for o in me["organizations"]] == [("Acme Yoga Supplies", "member")]
    drafts = call(client, world.member, "get", f"/api/drafts?org={world.org}").json
    assert {d["id"] for d in drafts["drafts"]} == {str(d) for d in world.drafts} and drafts["total"] == 6
    # Naming another organization shows nothing of it: row level security, not the console.
    for path in ("drafts", "campaigns", "inbox", "mailboxes", "contacts"):
        answer = call(client, world.member, "get", f"/api/{path}?org={world.other_org}").json
        assert all(not rows for key, rows in answer.items() if isinstance(rows, list)), path


def test_the_review_queue_carries_its_grounding_and_pages_by_keyset(client, world):
    first = call(client, world.member, "get", f"/api/drafts?org={world.org}&limit=2").json
    assert len(first["drafts"]) == 2 and first["next"]
    rest = call(client, world.member, "get", f"/api/drafts?org={world.org}&after={first['next']}").json
    ids = [d["id"] for d in first["drafts"] + rest["drafts"]]
    assert ids == [str(d) for d in world.drafts] and rest["next"] is None
    maria = first["drafts"][0]
    assert maria["page_title"] == "Estudio Sol" and "since 2009" in maria["page_description"]
    form = next(d for d in rest["drafts"] if d["id"] == str(world.form_draft))
    assert [field["label"] for field in form["form_fields"]] == ["Your name", "Your email", "Message"]
    bad = call(client, world.member, "get", f"/api/drafts?org={world.org}&after=yesterday")
    assert bad.status_code == 400


def test_a_member_edits_approves_and_rejects_drafts(client, conn, world):
    edit = call(
        client,
        world.member,
        "post",
        f"/api/drafts/{world.drafts[0]}",
        json={"subject": "New", "body": "Text"},
    )
    assert edit.status_code == 200
    assert conn.execute(
        "SELECT subject, body FROM outreach_flows WHERE id = %s", (world.drafts[0],)
    ).fetchone() == ("New", "Text")
    ids = [str(world.drafts[0]), str(world.form_draft), str(world.other_draft)]
    approved = call(
        client, world.member, "post", "/api/drafts/decide", json={"ids": ids, "decision": "approve"}
    ).json
    assert set(approved["changed"]) == {str(world.drafts[0]), str(world.form_draft)}
    assert approved["unchanged"] == [str(world.other_draft)]
    assert status_of(conn, world.drafts[0]) == status_of(conn, world.form_draft) == "scheduled"
    assert status_of(conn, world.other_draft) == "draft"  # another organization's: untouched
    call(
        client,
        world.member,
        "post",
        "/api/drafts/decide",
        json={"ids": [str(world.drafts[1])], "decision": "reject"},
    )
    assert status_of(conn, world.drafts[1]) == "canceled"
    # No longer a draft: an edit is refused and changes nothing.
    late = call(
        client, world.member, "post", f"/api/drafts/{world.drafts[1]}", json={"subject": "x", "body": "y"}
    )
    assert late.status_code == 409
    bad = call(client, world.member, "post", "/api/drafts/decide", json={"ids": [], "decision": "approve"})
    assert bad.status_code == 400


def test_a_member_is_refused_admin_actions_by_the_database(client, conn, world):
    pause = call(
        client, world.member, "post", f"/api/campaigns/{world.campaign}/status", json={"status": "paused"}
    )
    assert pause.status_code == 403 and "refused by the database" in pause.json["message"]
    assert (
        conn.execute("SELECT status FROM campaigns WHERE id = %s", (world.campaign,)).fetchone()[0]
        == "active"
    )
    box = call(client, world.member, "post", f"/api/mailboxes/{world.mailbox}/active", json={"active": False})
    assert box.status_code == 403
    assert conn.execute("SELECT active FROM mailboxes WHERE id = %s", (world.mailbox,)).fetchone()[0] is True
    add = call(
        client,
        world.member,
        "post",
        "/api/mailboxes",
        json={
            "organization_id": str(world.org),
            "email": "x@acme.example",
            "smtp_url": "smtp://x:pw@127.0.0.1:25",
        },
    )
    assert add.status_code == 403
    # Another organization's campaign is not there at all for an admin of this one.
    other = call(
        client, world.admin, "post", f"/api/campaigns/{world.paused}/status", json={"status": "active"}
    )
    assert other.status_code == 200
    foreign = conn.execute(
        "SELECT id FROM campaigns WHERE organization_id = %s", (world.other_org,)
    ).fetchone()[0]
    assert (
        call(
            client, world.admin, "post", f"/api/campaigns/{foreign}/status", json={"status": "paused"}
        ).status_code
        == 404
    )


def test_an_admin_resumes_a_paused_campaign_and_its_reason_clears(client, conn, world):
    rows = call(client, world.admin, "get", f"/api/campaigns?org={world.org}").json["campaigns"]
    paused = next(r for r in rows if r["campaign_id"] == str(world.paused))
    assert paused["status"] == "paused" and "hard bounces" in paused["paused_reason"]
    resumed = call(
        client, world.admin, "post", f"/api/campaigns/{world.paused}/status", json={"status": "active"}
    )
    assert resumed.json["status"] == "active" and resumed.json["paused_reason"] is None
    assert conn.execute(
        "SELECT status, paused_reason FROM campaigns WHERE id = %s", (world.paused,)
    ).fetchone() == ("active", None)
    spring = call(client, world.admin, "get", f"/api/campaigns/{world.campaign}/figures").json
    # Ana's reply counts, Leo's out-of-office does not: one person answered one first message.
    assert spring["first_messages_sent"] == 1 and spring["human_replies"] == 1
    assert spring["reply_rate"] == 1.0 and spring["replies_by_intent"] == {"interested": 1}
    figures = call(client, world.admin, "get", f"/api/campaigns/{world.campaign}").json
    assert {s["step"]: s["counts"] for s in figures["steps"]} == {0: {"draft": 4, "sent": 1}, 1: {"draft": 2}}
    # The reply draft goes out from the mailbox that received the reply.
    assert figures["mailboxes"] == [
        {"mailbox_id": str(world.mailbox), "email": "sam@acme.example", "counts": {"sent": 1, "draft": 1}}
    ]


def test_mailboxes_show_health_and_an_admin_pauses_and_adds_one(client, conn, world):
    rows = call(client, world.member, "get", f"/api/mailboxes?org={world.org}").json["mailboxes"]
    assert len(rows) == 1 and rows[0]["imap_error"] == "login refused" and rows[0]["cap_today"] == 5
    assert rows[0]["sent_today"] == 0 and "secret-pass" not in str(rows)
    # The sending domain's verdict and the complaint rates beside Gmail's lines.
    assert rows[0]["domain"] == "acme.example" and rows[0]["domain_status"] == "held"
    assert "DMARC" in rows[0]["domain_problem"]
    rates = call(client, world.member, "get", f"/api/mailboxes/complaints?org={world.org}").json
    [rate] = rates["complaint_rates"]
    assert rate["mailbox_id"] == str(world.mailbox) and rate["delivered_30d"] == 1
    assert rate["complaint_rate_30d"] == 0.0 and rate["standing_7d"] == "below 0.1%"
    assert rate["gmail_target_rate"] == 0.001 and rate["gmail_limit_rate"] == 0.003
    other = call(client, world.member, "get", f"/api/mailboxes/complaints?org={world.other_org}").json
    assert other["complaint_rates"] == []
    pause = call(
        client, world.admin, "post", f"/api/mailboxes/{world.mailbox}/active", json={"active": False}
    )
    assert pause.status_code == 200
    assert conn.execute("SELECT active FROM mailboxes WHERE id = %s", (world.mailbox,)).fetchone()[0] is False
    add = call(
        client,
        world.admin,
        "post",
        "/api/mailboxes",
        json={
            "organization_id": str(world.org),
            "email": "Li@Acme.example",
            "smtp_url": "smtp://li:pw-123@127.0.0.1:25",
            "daily_cap": 30,
        },
    )
    assert add.status_code == 201 and "pw-123" not in add.get_data(as_text=True)
    assert conn.execute(
        "SELECT smtp_endpoint, daily_cap FROM mailboxes WHERE organization_id = %s AND email = 'li@acme.example'",
        (world.org,),
    ).fetchone() == ("smtp://li@127.0.0.1:25", 30)
    bad = call(
        client,
        world.admin,
        "post",
        "/api/mailboxes",
        json={
            "organization_id": str(world.org),
            "email": "z@acme.example",
            "smtp_url": "ftp://z:secret-9@host",
        },
    )
    assert bad.status_code == 400 and "secret-9" not in bad.get_data(as_text=True)


def test_the_inbox_shows_a_reply_with_its_thread(client, world):
    inbox = call(client, world.member, "get", f"/api/inbox?org={world.org}").json
    assert [m["id"] for m in inbox["messages"]] == [str(world.reply)]
    ana = inbox["messages"][0]
    assert ana["contact_name"] == "Ana Ruiz" and ana["intent"] == "interested"
    assert (
        ana["intent_confidence"] == pytest.approx(0.92)
        and ana["intent_evidence"] == "Yes please, send two sets"
    )
    assert ana["needs_review"] is False
    answer = call(client, world.member, "get", f"/api/inbox/{world.reply}/thread").json
    assert [(t["side"], t["subject"]) for t in answer["thread"] if t["status"] != "draft"] == [
        ("ours", "Mats for Pilates Norte"),
        ("theirs", "Re: Mats for Pilates Norte"),
    ]
    assert answer["reply_draft"]["id"] == str(world.reply_draft)


def test_the_inbox_filters_on_intent(client, conn, world):
    def shown(intent):
        answer = call(client, world.member, "get", f"/api/inbox?org={world.org}&intent={intent}")
        assert answer.status_code == 200, answer.json
        return [m["id"] for m in answer.json["messages"]]

    assert shown("interested") == [str(world.reply)]
    assert shown("not_interested") == []
    conn.execute(
        "UPDATE inbound_messages SET intent = 'other', needs_review = true WHERE id = %s", (world.reply,)
    )
    assert shown("interested") == [] and shown("other") == [str(world.reply)]
    assert call(client, world.member, "get", f"/api/inbox?org={world.org}").json["messages"][0][
        "needs_review"
    ]
    bad = call(client, world.member, "get", f"/api/inbox?org={world.org}&intent=reply")
    assert bad.status_code == 400 and "interested" in bad.json["message"]


def test_a_reply_draft_is_grounded_on_the_message_it_answers(client, world):
    drafts = call(client, world.member, "get", f"/api/drafts?org={world.org}").json["drafts"]
    reply = next(d for d in drafts if d["id"] == str(world.reply_draft))
    assert reply["flow_type"] == "reply"
    assert reply["prospect_message"]["subject"] == "Re: Mats for Pilates Norte"
    assert reply["prospect_message"]["snippet"] == "Yes please, send two sets to our Bilbao studio."
    assert all(d["prospect_message"] is None for d in drafts if d["id"] != str(world.reply_draft))


def test_the_thread_offers_the_messages_own_reply_draft_across_campaigns(client, conn, world):
    # The reply's next step drafted in another campaign: the thread still offers that draft.
    conn.execute(
        "UPDATE outreach_flows SET campaign_id = %s WHERE id = %s", (world.paused, world.reply_draft)
    )
    answer = call(client, world.member, "get", f"/api/inbox/{world.reply}/thread").json
    assert answer["reply_draft"]["id"] == str(world.reply_draft)
    assert answer["reply_draft"]["text"] == "Two sets are on their way to Bilbao."


def test_set_aside_messages_show_and_a_member_asks_to_read_one_again(client, conn, world):
    inbox = call(client, world.member, "get", f"/api/inbox?org={world.org}").json
    assert [q["id"] for q in inbox["quarantined"]] == [str(world.quarantined)]
    item = inbox["quarantined"][0]
    assert item["mailbox"] == "sam@acme.example" and item["problem"] == "unverified"
    assert item["from_address"] == "stranger@elsewhere.example" and "not the contact" in item["reason"]
    assert item["read_again"] is False
    done = call(client, world.member, "post", f"/api/quarantine/{world.quarantined}/read-again")
    assert done.status_code == 200 and done.json["read_again"] is True
    assert (
        conn.execute(
            "SELECT read_again FROM inbound_quarantine WHERE id = %s", (world.quarantined,)
        ).fetchone()[0]
        is True
    )
    # Another organization's set-aside message: not listed, and not there to change.
    other = call(client, world.member, "get", f"/api/inbox?org={world.other_org}").json
    assert other["quarantined"] == []
    refused = call(client, world.member, "post", f"/api/quarantine/{world.other_quarantined}/read-again")
    assert refused.status_code == 404
    assert (
        conn.execute(
            "SELECT read_again FROM inbound_quarantine WHERE id = %s", (world.other_quarantined,)
        ).fetchone()[0]
        is False
    )


def test_contacts_are_found_by_address_name_or_company_and_unsubscribed(client, conn, world):
    def search(q):
        rows = call(client, world.member, "get", f"/api/contacts?org={world.org}&q={q}").json["contacts"]
        return {r["email"] or r["form_site"] for r in rows}

    assert search("maria@") == {"maria@estudio-sol.example"}
    assert search("li chen") == {"li@lotusflow.example"}
    assert search("zenden") == {"zenden.example"}
    assert search("%") == set()  # a wildcard is a character like any other
    assert search("MARÍA") == {"maria@estudio-sol.example"}  # case ignored, accents kept
    assert search("secret") == set()  # another organization's
    contact = conn.execute(
        "SELECT id FROM contacts WHERE organization_id = %s AND email = 'tom@coreworks.example'", (world.org,)
    ).fetchone()[0]
    held = call(client, world.member, "get", f"/api/contacts/{contact}").json["data"]
    foreign = conn.execute(
        "SELECT id FROM contacts WHERE organization_id = %s", (world.other_org,)
    ).fetchone()[0]
    assert call(client, world.member, "get", f"/api/contacts/{foreign}").status_code == 404
    assert (
        held[0]["contact"]["email"] == "tom@coreworks.example"
        and held[0]["messages"][0]["subject"] == "Mats for Core Works"
    )
    done = call(
        client,
        world.member,
        "post",
        f"/api/contacts/{contact}/unsubscribe",
        json={"reason": "asked by phone"},
    )
    assert done.status_code == 200
    assert conn.execute(
        "SELECT unsubscribe_requested, reached_status, unsubscribe_reason FROM contacts WHERE id = %s",
        (contact,),
    ).fetchone() == (True, "unsubscribed", "asked by phone")


def test_a_search_with_a_nul_is_refused_and_unsubscribing_keeps_a_bounce(client, conn, world):
    bad = call(client, world.member, "get", f"/api/contacts?org={world.org}&q=ma%00ria")
    assert bad.status_code == 400 and bad.json["error"] == "invalid_argument"
    contact = conn.execute(
        "SELECT id FROM contacts WHERE organization_id = %s AND email = 'tom@coreworks.example'", (world.org,)
    ).fetchone()[0]
    conn.execute("UPDATE contacts SET reached_status = 'bounced' WHERE id = %s", (contact,))
    done = call(
        client, world.member, "post", f"/api/contacts/{contact}/unsubscribe", json={"reason": "by phone"}
    )
    assert done.status_code == 200
    # The bounce the system recorded stays; the person's request is kept beside it.
    assert conn.execute(
        "SELECT unsubscribe_requested, reached_status FROM contacts WHERE id = %s", (contact,)
    ).fetchone() == (True, "bounced")
