"""One organization's data as the console shows it, for the console's tests and screenshots: an
admin and a member, a campaign paused by its breaker, drafts (first messages, a follow-up, a form
message) grounded on a scraped page, a sent thread with a reply, a mailbox, and another
organization whose rows must never show."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from tests import factories as f


@dataclass
class World:
    org: UUID
    admin: UUID
    member: UUID
    campaign: UUID
    paused: UUID
    drafts: list[UUID]
    form_draft: UUID
    reply: UUID
    reply_draft: UUID
    replier: UUID
    mailbox: UUID
    other_org: UUID
    other_admin: UUID
    other_draft: UUID
    quarantined: UUID
    other_quarantined: UUID


def page(conn, campaign_id, url, title, description, text):
    task = f.search_task(conn, campaign_id)
    scrape = f.scrape_result(conn, task, url, status="completed")
    conn.execute(
        "UPDATE scrape_results SET page_title = %s, page_description = %s, raw_content = %s WHERE id = %s",
        (title, description, text, scrape),
    )
    return scrape


def build(conn, name: str = "Acme Yoga Supplies") -> World:
    org = f.org(conn, name)
    admin, member = f.user(conn, "admin@acme.example"), f.user(conn, "member@acme.example")
    f.member(conn, org, admin, "admin")
    f.member(conn, org, member, "member")
    mailbox = conn.execute(
        "SELECT public.add_mailbox(%s, 'sam@acme.example', 'smtp://sam:secret-pass@127.0.0.1:2525', NULL, 40)",
        (org,),
    ).fetchone()[0]
    conn.execute(
        "UPDATE mailboxes SET ramp_start = 5, ramp_step = 5, imap_error = 'login refused' WHERE id = %s",
        (mailbox,),
    )
    campaign = f.campaign(conn, org, campaign_name="Spring studios", ai_settings={"review_before_send": True})
    paused = f.campaign(conn, org, campaign_name="Winter gyms")
    conn.execute(
        "UPDATE campaigns SET status = 'paused', paused_reason = 'hard bounces at 9%% of 40 sent in 7 days'"
        " WHERE id = %s",
        (paused,),
    )
    base = datetime.now(UTC) - timedelta(days=1)
    drafts = []
    people = [
        (
            "maria@estudio-sol.example",
            "María Pérez",
            "Estudio Sol",
            "Hot yoga and pilates in Madrid since 2009.",
        ),
        ("li@lotusflow.example", "Li Chen", "Lotus Flow", "Aerial yoga classes for all levels."),
        ("tom@coreworks.example", "Tom Baker", "Core Works", "A reformer pilates studio in Leeds."),
    ]
    for i, (email, person, title, description) in enumerate(people):
        scrape = page(
            conn,
            campaign,
            f"https://{email.split('@')[1]}/about",
            title,
            description,
            f"{title}. {description} Classes every day; teachers trained in-house.",
        )
        contact = f.contact(conn, org, email, name=person, source_scrape_id=scrape)
        f.link(conn, campaign, contact, status="drafted")
        drafts.append(
            f.flow(
                conn,
                campaign,
                contact,
                0,
                status="draft",
                when=base + timedelta(days=2),
                subject=f"Mats for {title}",
                body=f"Hi {person.split()[0]},\n\n<b>not bold</b> & a note.\n\nBest,\nSam",
                created_at=base + timedelta(minutes=i),
            )
        )
    # A follow-up draft of the first contact.
    first_contact = conn.execute(
        "SELECT contact_id FROM outreach_flows WHERE id = %s", (drafts[0],)
    ).fetchone()[0]
    drafts.append(
        f.flow(
            conn,
            campaign,
            first_contact,
            1,
            status="draft",
            when=base + timedelta(days=5),
            subject="Re: Mats",
            body="Following up on my note.",
            created_at=base + timedelta(minutes=5),
        )
    )
    # A business reachable only through its contact form.
    scrape = page(
        conn, campaign, "https://zenden.example/contact", "Zen Den", "A small yoga studio.", "Zen Den yoga."
    )
    form = conn.execute(
        "INSERT INTO contact_forms (organization_id, scrape_result_id, site, page_url, action, method, enctype,"
        " fields, roles) VALUES (%s, %s, 'zenden.example', 'https://zenden.example/contact',"
        " 'https://zenden.example/send', 'post', 'application/x-www-form-urlencoded', %s, %s) RETURNING id",
        (
            org,
            scrape,
            json.dumps(
                [
                    {
                        "name": "your-name",
                        "kind": "text",
                        "label": "Your name",
                        "required": True,
                        "role": "name",
                    },
                    {
                        "name": "your-email",
                        "kind": "email",
                        "label": "Your email",
                        "required": True,
                        "role": "email",
                    },
                    {
                        "name": "your-message",
                        "kind": "textarea",
                        "label": "Message",
                        "required": True,
                        "role": "message",
                    },
                ]
            ),
            json.dumps({"name": "your-name", "email": "your-email", "message": "your-message"}),
        ),
    ).fetchone()[0]
    form_contact = conn.execute(
        "INSERT INTO contacts (organization_id, email, contact_form_id, form_site, source_scrape_id, name)"
        " VALUES (%s, NULL, %s, 'zenden.example', %s, 'Zen Den') RETURNING id",
        (org, form, scrape),
    ).fetchone()[0]
    f.link(conn, campaign, form_contact, status="drafted")
    form_draft = f.flow(
        conn,
        campaign,
        form_contact,
        0,
        status="draft",
        flow_type="form_submission",
        subject="Studio mats",
        body="Hello Zen Den team, we make mats.",
        created_at=base + timedelta(minutes=6),
    )
    drafts.append(form_draft)
    # A sent first message, its reply, and the reply's waiting draft.
    replier = f.contact(conn, org, "ana@pilates-norte.example", name="Ana Ruiz", reached_status="responded")
    f.link(conn, campaign, replier, status="drafted")
    sent = f.flow(
        conn,
        campaign,
        replier,
        0,
        status="sent",
        subject="Mats for Pilates Norte",
        body="Hi Ana, would a sample set help?",
        sent_at=base,
        mailbox_id=mailbox,
    )
    reply = conn.execute(
        "INSERT INTO inbound_messages (organization_id, mailbox_id, contact_id, campaign_id, flow_id, kind,"
        " from_address, subject, snippet, received_at, fingerprint)"
        " VALUES (%s, %s, %s, %s, %s, 'reply', 'ana@pilates-norte.example', 'Re: Mats for Pilates Norte',"
        " 'Yes please, send two sets to our Bilbao studio.', %s, 'fp-1') RETURNING id",
        (org, mailbox, replier, campaign, sent, base + timedelta(hours=3)),
    ).fetchone()[0]
    # The answer waiting in that conversation: the reply draft the reply's next step wrote,
    # threaded on it, and the intent it was read as.
    reply_draft = f.flow(
        conn,
        campaign,
        replier,
        1,
        status="draft",
        when=base + timedelta(days=1),
        subject="Re: Mats for Pilates Norte",
        body="Two sets are on their way to Bilbao.",
        created_at=base + timedelta(minutes=7),
        flow_type="reply",
        in_reply_to="<fp-1@pilates-norte.example>",
        mailbox_id=mailbox,
    )
    drafts.append(reply_draft)
    conn.execute(
        "UPDATE inbound_messages SET intent = 'interested', intent_confidence = 0.92,"
        " intent_evidence = 'Yes please, send two sets', intent_by = 'rules', needs_review = false,"
        " next_step = 'reply drafted', next_flow_id = %s WHERE id = %s",
        (reply_draft, reply),
    )
    # An out-of-office answer to the same campaign: not a person's reply, so not in the reply rate.
    away = f.contact(conn, org, "leo@studio-away.example", name="Leo Away")
    f.link(conn, campaign, away, status="drafted")
    conn.execute(
        "INSERT INTO inbound_messages (organization_id, mailbox_id, contact_id, campaign_id, kind, intent,"
        " from_address, subject, snippet, received_at, fingerprint)"
        " VALUES (%s, %s, %s, %s, 'auto_reply', 'auto_reply', 'leo@studio-away.example', 'Out of office',"
        " 'Back on Monday.', %s, 'fp-2')",
        (org, mailbox, away, campaign, base + timedelta(hours=4)),
    )
    # The sending domain's check found no DMARC record: cold mail from it waits.
    conn.execute(
        "UPDATE sender_domain_checks SET checked_at = now(), problem = 'no DMARC record at _dmarc.acme.example'"
        " WHERE organization_id = %s AND domain = 'acme.example'",
        (org,),
    )
    # A message the mailbox reader set aside: from someone who is not the contact.
    quarantined = conn.execute(
        "INSERT INTO inbound_quarantine (organization_id, mailbox_id, uidvalidity, uid, problem, reason, kind,"
        " from_address, subject, snippet) VALUES (%s, %s, 1, 42, 'unverified',"
        " 'a reply from someone who is not the contact', 'reply', 'stranger@elsewhere.example',"
        " 'Re: Mats for Core Works', 'Please call me.') RETURNING id",
        (org, mailbox),
    ).fetchone()[0]
    # The other organization: nothing of it may ever show.
    other_org = f.org(conn, "Globex Fitness")
    other_admin = f.user(conn, "admin@globex.example")
    f.member(conn, other_org, other_admin, "admin")
    other_campaign = f.campaign(conn, other_org, campaign_name="Globex secret plan")
    other_contact = f.contact(conn, other_org, "secret@globex-lead.example")
    f.link(conn, other_campaign, other_contact)
    other_draft = f.flow(
        conn, other_campaign, other_contact, 0, status="draft", subject="Globex secret subject"
    )
    other_mailbox = conn.execute(
        "SELECT public.add_mailbox(%s, 'ops@globex.example', 'smtp://ops:pw@127.0.0.1:2525', NULL, 40)",
        (other_org,),
    ).fetchone()[0]
    other_quarantined = conn.execute(
        "INSERT INTO inbound_quarantine (organization_id, mailbox_id, uidvalidity, uid, problem, reason,"
        " from_address, subject) VALUES (%s, %s, 1, 7, 'unreadable', 'the message could not be parsed',"
        " 'x@globex-lead.example', 'Globex secret quarantine') RETURNING id",
        (other_org, other_mailbox),
    ).fetchone()[0]
    return World(
        org,
        admin,
        member,
        campaign,
        paused,
        drafts,
        form_draft,
        reply,
        reply_draft,
        replier,
        mailbox,
        other_org,
        other_admin,
        other_draft,
        quarantined,
        other_quarantined,
    )
